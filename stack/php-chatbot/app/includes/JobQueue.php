<?php
declare(strict_types=1);

/** The job queue in PostgreSQL: enqueue, claim (one worker per job), finish, retry, dead-letter. */
final class JobQueue
{
    private const MAX_BACKOFF_SECONDS = 30;

    public function __construct(private DB $db, private int $maxAttempts = 3)
    {
    }

    /** @param array<string, mixed> $payload */
    public function enqueue(string $type, array $payload): int
    {
        $row = $this->db->one('INSERT INTO jobs (type, payload, max_attempts) VALUES (?, ?::jsonb, ?) RETURNING id',
            [$type, json_encode($payload), $this->maxAttempts]);
        return (int) $row['id'];
    }

    /** The next ready job, now `running` and owned by the caller; null when none is ready. */
    public function claim(): ?array
    {
        $job = $this->db->one("UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = now()
            WHERE id = (SELECT id FROM jobs WHERE status = 'pending' AND available_at <= now()
                        ORDER BY available_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING *");
        if ($job !== null) {
            $job['payload'] = json_decode((string) $job['payload'], true);
        }
        return $job;
    }

    /** @param array<string, mixed> $result */
    public function complete(int $id, array $result): void
    {
        $this->db->execute("UPDATE jobs SET status = 'completed', result = ?::jsonb, error_text = NULL,
            updated_at = now() WHERE id = ?", [json_encode($result), $id]);
    }

    /**
     * A failed attempt: back to pending after a delay (the upstream's Retry-After when it gave
     * one), or, once its attempts are used up, failed and copied to the dead-letter queue.
     * @param array<string, mixed> $job
     * @return string "retry" or "dead-lettered"
     */
    public function fail(array $job, string $error, ?int $retryAfter = null): string
    {
        if ((int) $job['attempts'] < (int) $job['max_attempts']) {
            $delay = $retryAfter ?? min(self::MAX_BACKOFF_SECONDS, 2 ** ((int) $job['attempts'] - 1));
            $this->db->execute("UPDATE jobs SET status = 'pending', error_text = ?, updated_at = now(),
                available_at = now() + make_interval(secs => ?) WHERE id = ?", [$error, $delay, $job['id']]);
            return 'retry';
        }
        $this->db->pdo->beginTransaction();
        $this->db->execute("UPDATE jobs SET status = 'failed', error_text = ?, updated_at = now() WHERE id = ?",
            [$error, $job['id']]);
        $this->db->execute('INSERT INTO dead_letter_queue (job_id, type, payload, error_text, attempts)
            VALUES (?, ?, ?::jsonb, ?, ?)', [$job['id'], $job['type'], json_encode($job['payload']), $error,
            $job['attempts']]);
        $this->db->pdo->commit();
        return 'dead-lettered';
    }

    /** Give a claimed job back untouched (the worker is stopping): pending, the attempt not counted. */
    public function release(int $id): void
    {
        $this->db->execute("UPDATE jobs SET status = 'pending', attempts = greatest(attempts - 1, 0),
            updated_at = now() WHERE id = ? AND status = 'running'", [$id]);
    }

    /** @return array<string, mixed> */
    public function stats(): array
    {
        $counts = ['pending' => 0, 'running' => 0, 'completed' => 0, 'failed' => 0, 'cancelled' => 0];
        foreach ($this->db->query('SELECT status, count(*) AS n FROM jobs GROUP BY status') as $row) {
            $counts[$row['status']] = (int) $row['n'];
        }
        $extra = $this->db->one("SELECT
            (SELECT count(*) FROM dead_letter_queue WHERE requeued_at IS NULL) AS dlq,
            (SELECT count(*) FROM jobs WHERE status = 'completed' AND updated_at > now() - interval '1 minute')
                AS completed_last_minute,
            (SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::int FROM jobs WHERE status = 'pending')
                AS oldest_pending_seconds");
        return [
            'jobs' => $counts,
            'dead_letter_queue' => (int) $extra['dlq'],
            'completed_last_minute' => (int) $extra['completed_last_minute'],
            'oldest_pending_seconds' => (int) $extra['oldest_pending_seconds'],
        ];
    }

    /** @return list<array<string, mixed>> */
    public function deadLetters(int $limit = 100): array
    {
        return $this->db->query('SELECT id, job_id, type, error_text, attempts, failed_at FROM dead_letter_queue
            WHERE requeued_at IS NULL ORDER BY id LIMIT ?', [$limit]);
    }

    /** Put a dead-lettered job back in the queue; its job id, or null when there is no such entry. */
    public function requeue(int $dlqId): ?int
    {
        $this->db->pdo->beginTransaction();
        $entry = $this->db->one('SELECT job_id FROM dead_letter_queue WHERE id = ? AND requeued_at IS NULL
            FOR UPDATE', [$dlqId]);
        if ($entry === null) {
            $this->db->pdo->rollBack();
            return null;
        }
        $this->db->execute('UPDATE dead_letter_queue SET requeued_at = now() WHERE id = ?', [$dlqId]);
        $this->db->execute("UPDATE jobs SET status = 'pending', attempts = 0, available_at = now(),
            updated_at = now() WHERE id = ?", [$entry['job_id']]);
        $this->db->pdo->commit();
        return (int) $entry['job_id'];
    }
}

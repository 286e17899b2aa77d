<?php
// The background worker: claims ready jobs one at a time and runs them (a chat message answered
// through the OpenAI API). As a service it loops until SIGTERM; `--mode=single` runs at most one
// job, says what happened and exits (to see errors by hand).
declare(strict_types=1);

require_once __DIR__ . '/../includes/Env.php';
require_once __DIR__ . '/../includes/Logger.php';
require_once __DIR__ . '/../includes/DB.php';
require_once __DIR__ . '/../includes/JobQueue.php';
require_once __DIR__ . '/../includes/OpenAIClient.php';

const IDLE_SLEEP_MICROSECONDS = 200_000;
const RECONNECT_SLEEP_SECONDS = 1;
const HISTORY_MESSAGES = 10;

$config = require __DIR__ . '/../config.php';
$single = in_array('--mode=single', $argv, true);
$workerId = getenv('WORKER_ID') ?: 'manual';
$workerLog = new Logger($config['log_dir'] . '/worker.log', 'worker');
$appLog = new Logger($config['log_dir'] . '/application.log', 'worker');
$stopping = false;
$openai = new OpenAIClient($config, $appLog->withComponent('openai_client'), function () use (&$stopping): bool {
    return $stopping;
});

if (function_exists('pcntl_async_signals')) {
    pcntl_async_signals(true);
    foreach ([SIGTERM, SIGINT] as $signal) {
        pcntl_signal($signal, function () use (&$stopping): void { $stopping = true; });
    }
}

/** @param array<string, mixed> $job */
function run_job(array $job, DB $db, OpenAIClient $openai): array
{
    if ($job['type'] !== 'chat_completion') {
        throw new RuntimeException("unknown job type {$job['type']}");
    }
    $session = (string) $job['payload']['session'];
    $history = array_reverse($db->query('SELECT role, content FROM messages WHERE session_id = ?
        ORDER BY id DESC LIMIT ' . HISTORY_MESSAGES, [$session]));
    $messages = array_map(fn ($m) => ['role' => $m['role'], 'content' => $m['content']], $history);
    $notes = $job['payload']['context'] ?? [];
    if ($notes) {
        array_unshift($messages, ['role' => 'system', 'content' => "Help-centre notes:\n" . implode("\n", $notes)]);
    }
    $answer = $openai->chat($messages);
    $db->execute("INSERT INTO messages (session_id, role, content, job_id) VALUES (?, 'assistant', ?, ?)",
        [$session, $answer, $job['id']]);
    return ['answer' => $answer];
}

$workerLog->info('worker_started', ['worker' => $workerId, 'pid' => getmypid(), 'mode' => $single ? 'single' : 'service']);
$db = null;
while (!$stopping) {
    try {
        $db ??= new DB($config);
        $queue = new JobQueue($db, $config['job_max_attempts']);
        $job = $queue->claim();
    } catch (Throwable $e) {
        $workerLog->error('database_error', ['worker' => $workerId, 'error' => $e->getMessage()]);
        $db = null;
        if ($single) {
            fwrite(STDERR, "database error: {$e->getMessage()}\n");
            exit(1);
        }
        sleep(RECONNECT_SLEEP_SECONDS);
        continue;
    }
    if ($job === null) {
        if ($single) {
            echo "no job is ready\n";
            exit(0);
        }
        usleep(IDLE_SLEEP_MICROSECONDS);
        continue;
    }
    $started = microtime(true);
    try {
        $queue->complete((int) $job['id'], run_job($job, $db, $openai));
        $ms = (int) round((microtime(true) - $started) * 1000);
        $workerLog->info('job_completed', ['worker' => $workerId, 'job_id' => (int) $job['id'], 'duration_ms' => $ms]);
        if ($single) {
            echo "job {$job['id']} completed in {$ms} ms\n";
        }
    } catch (OpenAIAborted $e) {
        $queue->release((int) $job['id']);
        $workerLog->info('job_released', ['worker' => $workerId, 'job_id' => (int) $job['id']]);
    } catch (Throwable $e) {
        $retryAfter = $e instanceof OpenAIError ? $e->retryAfter : null;
        try {
            $outcome = $queue->fail($job, $e->getMessage(), $retryAfter);
        } catch (Throwable $inner) {
            $outcome = 'left running: ' . $inner->getMessage();
            $db = null;
        }
        $workerLog->error('job_failed', ['worker' => $workerId, 'job_id' => (int) $job['id'],
                                         'attempt' => (int) $job['attempts'], 'error' => $e->getMessage(),
                                         'outcome' => $outcome]);
        if ($single) {
            echo "job {$job['id']} failed ({$outcome}): {$e->getMessage()}\n";
        }
    }
    if ($single) {
        exit(0);
    }
}
$workerLog->info('worker_stopped', ['worker' => $workerId]);

<?php
// POST /chat.php {"session": ID, "message": TEXT} queues the message for an answer (202 with the
// job's id); GET /chat.php?job=ID says where that job is, with the answer once it is there.
declare(strict_types=1);

require __DIR__ . '/../includes/bootstrap.php';
require __DIR__ . '/../includes/Faq.php';

$log = $log->withComponent('chat');
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';

if ($method === 'POST') {
    $body = json_body();
    $session = substr(preg_replace('/[^A-Za-z0-9_.-]/', '', (string) ($body['session'] ?? '')), 0, 64);
    $message = trim((string) ($body['message'] ?? ''));
    if ($session === '' || $message === '' || strlen($message) > 4000) {
        respond(400, ['error' => 'send {"session": "...", "message": "..."} (message up to 4000 characters)']);
    }
    $db = database($config, $log);
    $queue = new JobQueue($db, $config['job_max_attempts']);
    $db->execute("INSERT INTO messages (session_id, role, content) VALUES (?, 'user', ?)", [$session, $message]);
    $context = Faq::context($message);
    $job = $queue->enqueue('chat_completion', ['session' => $session, 'message' => $message, 'context' => $context]);
    record($log, 'chat_queued', ['session' => $session, 'job_id' => $job]);
    respond(202, ['job_id' => $job, 'status' => 'pending']);
}

if ($method === 'GET' && isset($_GET['job'])) {
    $db = database($config, $log);
    $job = $db->one('SELECT id, status, result, error_text, attempts FROM jobs WHERE id = ? AND type = ?',
        [(int) $_GET['job'], 'chat_completion']);
    if ($job === null) {
        respond(404, ['error' => 'no such job']);
    }
    record($log, 'chat_polled', ['job_id' => (int) $job['id'], 'status' => $job['status']]);
    $answer = $job['result'] === null ? null : (json_decode((string) $job['result'], true)['answer'] ?? null);
    respond(200, ['job_id' => (int) $job['id'], 'status' => $job['status'], 'answer' => $answer,
                  'attempts' => (int) $job['attempts'], 'error' => $job['status'] === 'failed' ? 'not answered' : null]);
}

respond(405, ['error' => 'POST a message, or GET ?job=ID']);

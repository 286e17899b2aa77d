<?php
// The admin API, behind `Authorization: Bearer $ADMIN_TOKEN`:
//   GET  /admin-api.php/job_stats          jobs by status, dead letters, completions in the last minute
//   GET  /admin-api.php/list_dlq           the dead-letter queue
//   POST /admin-api.php/requeue_dlq?id=N   put dead letter N back in the queue
declare(strict_types=1);

require __DIR__ . '/../includes/bootstrap.php';

$log = $log->withComponent('admin_api');
$action = trim((string) ($_SERVER['PATH_INFO'] ?? ''), '/');
$given = (string) ($_SERVER['HTTP_AUTHORIZATION'] ?? '');
$token = (string) $config['admin_token'];
$client = (string) ($_SERVER['REMOTE_ADDR'] ?? '');
$agent = substr((string) ($_SERVER['HTTP_USER_AGENT'] ?? ''), 0, 120);

if ($token === '' || !str_starts_with($given, 'Bearer ') || !hash_equals($token, substr($given, 7))) {
    $log->warning('auth_failed', ['action' => $action, 'ip' => $client, 'agent' => $agent,
                                   'reason' => $given === '' ? 'no credentials' : 'bad token']);
    header('WWW-Authenticate: Bearer');
    respond(401, ['error' => 'unauthorized']);
}
record($log, 'admin_request', ['action' => $action, 'ip' => $client, 'agent' => $agent]);

$queue = new JobQueue(database($config, $log), $config['job_max_attempts']);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';

switch ($action) {
    case 'job_stats':
        respond(200, $queue->stats());
    case 'list_dlq':
        respond(200, ['items' => $queue->deadLetters()]);
    case 'requeue_dlq':
        if ($method !== 'POST') {
            respond(405, ['error' => 'requeue_dlq takes POST']);
        }
        $id = filter_var($_GET['id'] ?? '', FILTER_VALIDATE_INT);
        if ($id === false) {
            respond(400, ['error' => 'give ?id=N (an id from list_dlq)']);
        }
        $job = $queue->requeue($id);
        if ($job === null) {
            respond(404, ['error' => "no dead letter $id waiting to be requeued"]);
        }
        $log->info('dlq_requeued', ['dlq_id' => $id, 'job_id' => $job]);
        respond(200, ['requeued' => $id, 'job_id' => $job]);
    default:
        respond(404, ['error' => 'unknown action; one of job_stats, list_dlq, requeue_dlq']);
}

<?php
// What every web entry point shares: settings, the application log, JSON answers, the database.
declare(strict_types=1);

require_once __DIR__ . '/Env.php';
require_once __DIR__ . '/Logger.php';
require_once __DIR__ . '/DB.php';
require_once __DIR__ . '/JobQueue.php';

$config = require __DIR__ . '/../config.php';
$log = new Logger($config['log_dir'] . '/application.log', 'web');

/** @param array<string, mixed>|list<mixed> $payload */
function respond(int $status, array $payload): never
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($payload, JSON_UNESCAPED_SLASHES), "\n";
    exit;
}

/** Record the request, or refuse it: a request that cannot be logged is not served. */
function record(Logger $log, string $event, array $context = []): void
{
    if (!$log->info($event, $context)) {
        error_log('chatbot: cannot write the application log (disk full?)');
        respond(500, ['error' => 'internal error: the application log cannot be written']);
    }
}

/** @param array<string, mixed> $config */
function database(array $config, Logger $log): DB
{
    try {
        return new DB($config);
    } catch (Throwable $e) {
        $log->error('database_error', ['error' => $e->getMessage()]);
        respond(503, ['error' => 'database unavailable']);
    }
}

/** @return array<string, mixed> */
function json_body(): array
{
    $decoded = json_decode((string) file_get_contents('php://input'), true);
    return is_array($decoded) ? $decoded : [];
}

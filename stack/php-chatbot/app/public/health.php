<?php
// GET /health: 200 {"status": "ok"} when the database answers and the log disk has room.
declare(strict_types=1);

require __DIR__ . '/../includes/bootstrap.php';

const MIN_FREE_LOG_BYTES = 64 * 1024;

$database = 'connected';
try {
    (new DB($config))->one('SELECT 1');
} catch (Throwable $e) {
    $database = 'disconnected';
    $log->withComponent('health')->error('database_error', ['error' => $e->getMessage()]);
}
$free = @disk_free_space($config['log_dir']);
$logDisk = ($free !== false && $free >= MIN_FREE_LOG_BYTES) ? 'ok' : 'full';
$ok = $database === 'connected' && $logDisk === 'ok';
respond($ok ? 200 : 503, ['status' => $ok ? 'ok' : 'degraded', 'database' => $database, 'log_disk' => $logDisk]);

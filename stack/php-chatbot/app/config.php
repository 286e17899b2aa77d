<?php
// The chatbot's settings: the .env file beside this one (KEY=value lines), read on every request
// by the web side and at start by the worker, so a change to .env reaches new requests at once
// and the worker when it restarts.
declare(strict_types=1);

require_once __DIR__ . '/includes/Env.php';

$env = Env::read(__DIR__ . '/.env');

$config = [
    'admin_token'      => $env['ADMIN_TOKEN'] ?? '',
    'database_url'     => $env['ADMIN_DATABASE_URL'] ?? '',
    'openai_api_key'   => $env['OPENAI_API_KEY'] ?? '',
    'openai_base_url'  => rtrim($env['OPENAI_BASE_URL'] ?? 'https://api.openai.com/v1', '/'),
    'openai_model'     => $env['OPENAI_MODEL'] ?? 'gpt-4o-mini',
    'openai_timeout'   => (float) ($env['OPENAI_TIMEOUT_SECONDS'] ?? '30'),
    'job_max_attempts' => (int) ($env['JOB_MAX_ATTEMPTS'] ?? '3'),
    'log_dir'          => $env['LOG_DIR'] ?? '/var/log/chatbot',
    'app_env'          => $env['APP_ENV'] ?? 'production',
];

return $config;

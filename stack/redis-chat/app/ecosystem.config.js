'use strict';
// pm2's apps: the Next server (next-app) and the lead worker. Both get the settings of
// .env.local as their environment, which pm2 stores: `pm2 restart NAME` keeps what was stored,
// `pm2 restart NAME --update-env` takes the calling shell's environment instead.
const fs = require('fs');
const path = require('path');

const ROOT = __dirname;

function readEnvFile(file) {
  const env = {};
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (_) {
    return env;
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    env[match[1]] = value;
  }
  return env;
}

const settings = readEnvFile(path.join(ROOT, '.env.local'));

module.exports = {
  apps: [
    {
      name: 'next-app',
      script: path.join(ROOT, 'next-start.js'),
      cwd: ROOT,
      env: { ...settings, PORT: '3000', HOSTNAME: '0.0.0.0', NEXT_TELEMETRY_DISABLED: '1' },
      node_args: '--max-old-space-size=192',
      max_memory_restart: '300M',
      kill_timeout: 5000,
      autorestart: true,
    },
    {
      name: 'lead-worker',
      script: path.join(ROOT, 'worker', 'lead-worker.js'),
      cwd: ROOT,
      env: { ...settings },
      node_args: '--max-old-space-size=96',
      max_memory_restart: '150M',
      kill_timeout: 8000,
      autorestart: true,
    },
  ],
};

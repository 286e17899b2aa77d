'use strict';
// One line per event in logs/application.log, shared by the web app and the lead worker:
//   2026-11-26T13:00:00.123Z LEVEL [component] message key=value ...
// Secret values from the environment (and a password inside a redis:// URL) never reach the file.
const fs = require('fs');
const path = require('path');

const LOG_FILE = process.env.APP_LOG_FILE || '/srv/chat-system/logs/application.log';
const SECRET_NAMES = ['SESSION_SECRET', 'OPENAI_API_KEY', 'LEADPROSPER_API_KEY', 'CRON_SECRET'];

let folderMade = false;

function secretValues() {
  const values = SECRET_NAMES.map((name) => process.env[name]).filter((v) => v && v.length >= 6);
  const url = process.env.REDIS_URL || '';
  const match = /^rediss?:\/\/[^:@/]*:([^@/]+)@/.exec(url);
  if (match) values.push(match[1], decodeURIComponent(match[1]));
  return values.filter((v, i, all) => v.length >= 6 && all.indexOf(v) === i);
}

function scrub(text) {
  let out = String(text).replace(/(rediss?:\/\/[^:@/\s]*:)[^@/\s]+@/g, '$1***@');
  for (const value of secretValues()) out = out.split(value).join('***');
  return out.replace(/[\r\n]+/g, ' ');
}

function format(value) {
  const text = scrub(value);
  return /\s/.test(text) || text === '' ? JSON.stringify(text) : text;
}

function write(level, component, message, fields) {
  const pairs = Object.entries(fields || {})
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}=${format(v)}`)
    .join('');
  const line = `${new Date().toISOString()} ${level} [${component}] ${scrub(message)}${pairs}\n`;
  try {
    if (!folderMade) {
      fs.mkdirSync(path.dirname(LOG_FILE), { recursive: true });
      folderMade = true;
    }
    fs.appendFileSync(LOG_FILE, line);
  } catch (err) {
    process.stderr.write(`log write failed (${err.code || err.message}): ${line}`);
  }
}

function logger(component) {
  return {
    info: (message, fields) => write('INFO', component, message, fields),
    warn: (message, fields) => write('WARN', component, message, fields),
    error: (message, fields) => write('ERROR', component, message, fields),
  };
}

// The short reason of an error, for logs and answers (a Redis reply, a network code, a timeout).
function reason(err) {
  if (!err) return 'unknown error';
  if (err.name === 'TimeoutError' || err.code === 'ETIMEDOUT') return 'timeout';
  const cause = err.cause && (err.cause.code || err.cause.message);
  return scrub(cause ? `${err.message} (${cause})` : err.message || String(err));
}

module.exports = { logger, scrub, reason, LOG_FILE };

'use strict';
// One Redis client per process. It never queues commands while disconnected (they fail at once),
// every command has a deadline, and it reconnects by itself every few hundred ms, so callers answer
// quickly while Redis is away and recover on their own once it is back.
const { createClient } = require('redis');

const COMMAND_TIMEOUT_MS = Number(process.env.REDIS_COMMAND_TIMEOUT_MS || 1500);

let client = null;
let createdAt = 0;
// Right after the client is made (process start, or after a reset) commands wait this long for the
// first connection instead of failing at once as offline.
const FIRST_CONNECT_MS = 1500;

class RedisTimeoutError extends Error {
  constructor(what, ms) {
    super(`Redis ${what} timed out after ${ms}ms`);
    this.name = 'RedisTimeoutError';
  }
}

function connect() {
  const created = createClient({
    url: process.env.REDIS_URL || 'redis://127.0.0.1:6379/0',
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries) => Math.min(200 * (retries + 1), 1000),
    },
  });
  // Without a listener a connection error would end the process; callers see their own errors.
  created.on('error', () => {});
  created.connect().catch(() => {});
  return created;
}

function getClient() {
  if (!client) {
    client = connect();
    createdAt = Date.now();
  }
  return client;
}

function firstConnection(redis) {
  const left = FIRST_CONNECT_MS - (Date.now() - createdAt);
  if (redis.isReady || left <= 0) return null;
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, left);
    redis.on('ready', done);
  });
}

// A command that hangs (a peer that vanished without closing) drops the connection, so the next
// call starts afresh instead of waiting behind it.
function reset() {
  const old = client;
  client = null;
  if (old) old.disconnect().catch(() => {});
}

async function run(what, fn, timeoutMs = COMMAND_TIMEOUT_MS) {
  const redis = getClient();
  const waiting = firstConnection(redis);
  if (waiting) await waiting;
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([fn(redis), deadline]);
  } catch (err) {
    if (err instanceof RedisTimeoutError) reset();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// A connection-level failure (down, offline, closed, timed out) as opposed to an error reply
// from a running server (OOM, READONLY, WRONGTYPE ...).
function isUnavailable(err) {
  if (!err) return false;
  if (err instanceof RedisTimeoutError) return true;
  const name = err.name || err.constructor?.name || '';
  if (['ClientOfflineError', 'ClientClosedError', 'ConnectionTimeoutError', 'SocketClosedUnexpectedlyError',
    'DisconnectsClientError'].includes(name)) return true;
  return Boolean(err.code && /^E[A-Z]+/.test(err.code));
}

module.exports = { getClient, run, reset, isUnavailable, RedisTimeoutError };

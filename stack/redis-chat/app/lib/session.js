'use strict';
// Signed session cookies (chat_session=<id>.<hmac>) and their Redis records (sess:<id>, a week).
const crypto = require('crypto');

const COOKIE = 'chat_session';
const TTL_SECONDS = 604800;

function secret() {
  return process.env.SESSION_SECRET || 'local-only-session-secret';
}

function sign(id) {
  return crypto.createHmac('sha256', secret()).update(id).digest('base64url');
}

function cookieValue(id) {
  return `${id}.${sign(id)}`;
}

function setCookieHeader(id) {
  return `${COOKIE}=${cookieValue(id)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${TTL_SECONDS}`;
}

// The session id of a Cookie header when its signature is right; null otherwise.
function sessionId(cookieHeader) {
  for (const part of String(cookieHeader || '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== COOKIE) continue;
    const value = rest.join('=');
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(sign(id));
    if (!/^[A-Za-z0-9-]{8,64}$/.test(id)) return null;
    return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? id : null;
  }
  return null;
}

function newId() {
  return crypto.randomUUID();
}

const key = (id) => `sess:${id}`;

module.exports = { COOKIE, TTL_SECONDS, sign, cookieValue, setCookieHeader, sessionId, newId, key };

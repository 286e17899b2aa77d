import redis from '../../../lib/redis';
import http from '../../../lib/http';
import session from '../../../lib/session';
import category from '../../../lib/category';
import leads from '../../../lib/leads';
import logging from '../../../lib/log';
import settings from '../../../lib/settings';
import newChat from '../../../lib/new-chat';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const { log, json } = http;
const FALLBACK_REPLY = 'Thanks for your message. Someone from our team will get back to you shortly.';

function record(raw) {
  try {
    return JSON.parse(raw) || {};
  } catch (_) {
    return {};
  }
}

// Redis away (down, unreachable, timed out): the session cannot be found.
function sessionMissing(err) {
  const detail = logging.reason(err);
  log.error(`Session not found: Redis unavailable (${detail})`);
  return json(503, { error: 'Session not found', detail });
}

function writeRefused(err, error = 'Session store unavailable') {
  const detail = logging.reason(err);
  log.error(`Session store write failed: ${detail}`);
  return json(503, { error, detail });
}

export const GET = http.handle(async (request) => {
  const id = session.sessionId(request.headers.get('cookie'));
  try {
    if (id) {
      const raw = await redis.run('get', (r) => r.get(session.key(id)));
      if (raw !== null) {
        return json(200, { session: 'active', new: false, messages: record(raw).messages || 0 });
      }
    }
  } catch (err) {
    return sessionMissing(err);
  }
  const fresh = session.newId();
  const value = JSON.stringify({ created: new Date().toISOString(), messages: 0, category: null });
  try {
    await redis.run('set', (r) => r.set(session.key(fresh), value, { EX: session.TTL_SECONDS }));
  } catch (err) {
    return redis.isUnavailable(err) ? sessionMissing(err) : writeRefused(err, 'Session not found');
  }
  return json(200, { session: 'active', new: true }, { 'set-cookie': session.setCookieHeader(fresh) });
});

async function detect(message) {
  const started = Date.now();
  try {
    const content = await category.complete(message);
    const found = category.categoryOf(content);
    log.info('Category detection succeeded', { category: found, ms: Date.now() - started });
    return { category: found, reply: content };
  } catch (err) {
    log.error(`Category detection failed: ${err.message}`, { ms: Date.now() - started });
    return { category: 'general', reply: FALLBACK_REPLY };
  }
}

export const POST = http.handle(async (request) => {
  let body;
  try {
    body = await request.json();
  } catch (_) {
    return json(400, { error: 'Invalid JSON body' });
  }
  if (settings.newChat) {
    try {
      return json(200, await newChat.runNewChatPipeline(body || {}));
    } catch (err) {
      log.error(`New chat pipeline failed: ${err.name}: ${err.message}`);
      return json(500, { error: 'Internal Server Error' });
    }
  }
  const message = typeof body?.message === 'string' ? body.message.trim() : '';
  if (!message) return json(400, { error: 'message is required' });

  const id = session.sessionId(request.headers.get('cookie'));
  if (!id) return json(401, { error: 'Session not found' });
  let current;
  try {
    current = await redis.run('get', (r) => r.get(session.key(id)));
  } catch (err) {
    return sessionMissing(err);
  }
  if (current === null) return json(401, { error: 'Session not found' });

  const state = record(current);
  state.messages = (state.messages || 0) + 1;
  try {
    await redis.run('set', (r) => r.set(session.key(id), JSON.stringify(state), { KEEPTTL: true }));
  } catch (err) {
    return redis.isUnavailable(err) ? sessionMissing(err) : writeRefused(err);
  }

  const detected = await detect(message);
  state.category = detected.category;
  try {
    await redis.run('set', (r) => r.set(session.key(id), JSON.stringify(state), { KEEPTTL: true, XX: true }));
  } catch (err) {
    log.warn(`Session category not saved: ${logging.reason(err)}`);
  }

  const answer = { reply: detected.reply, category: detected.category, messages: state.messages };
  const given = body.lead;
  if (given && typeof given === 'object' && (given.email || given.phone)) {
    const lead = leads.makeLead({ ...given, category: detected.category, message });
    try {
      await redis.run('lpush', (r) => r.lPush(leads.QUEUE, JSON.stringify(lead)));
    } catch (err) {
      return redis.isUnavailable(err) ? sessionMissing(err) : writeRefused(err);
    }
    log.info('Lead queued', { lead: lead.id, category: lead.category });
    answer.lead_id = lead.id;
  }
  return json(200, answer);
});

'use strict';
// The lead queue: leads wait in the list lead_queue (LPUSH in, RPOP out), sit in the hash
// lead_processing while being submitted to LeadProsper, and land in the hash lead_failed when
// the submission fails. The worker and the cron route submit with the same function.
const crypto = require('crypto');

const QUEUE = 'lead_queue';
const PROCESSING = 'lead_processing';
const FAILED = 'lead_failed';

function makeLead({ category, name, email, phone, message }) {
  return {
    id: crypto.randomUUID(),
    category,
    name: String(name || ''),
    email: String(email || ''),
    phone: String(phone || ''),
    message: String(message || ''),
    created_at: new Date().toISOString(),
  };
}

function payload(lead) {
  const [first, ...rest] = String(lead.name || '').trim().split(/\s+/);
  return {
    lp_campaign_id: Number(process.env.LEADPROSPER_CAMPAIGN_ID || 0),
    lp_key: process.env.LEADPROSPER_API_KEY || '',
    lead_id: lead.id,
    first_name: first || '',
    last_name: rest.join(' '),
    email: lead.email,
    phone: lead.phone,
    category: lead.category,
    comments: lead.message,
  };
}

const RETRYABLE = new Set(['timeout', 'network']); // no answer came: an answer (even an error) is final
const MAX_RETRIES = 10;

// POST {LEADPROSPER_API_URL}/direct_post once. Resolves {ok, status, ms, error}: status is the HTTP
// status, or "timeout" / "network" when no answer came within LEADPROSPER_TIMEOUT_MS.
async function attemptLead(lead) {
  const base = (process.env.LEADPROSPER_API_URL || 'http://api.leadprosper.internal:8080').replace(/\/+$/, '');
  const timeoutMs = Number(process.env.LEADPROSPER_TIMEOUT_MS || 5000);
  const started = Date.now();
  try {
    const response = await fetch(`${base}/direct_post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${process.env.LEADPROSPER_API_KEY || ''}` },
      body: JSON.stringify(payload(lead)),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const ms = Date.now() - started;
    if (response.ok) return { ok: true, status: response.status, ms };
    let error = text.slice(0, 200);
    try {
      const body = JSON.parse(text);
      error = body.message || body.error?.message || body.error || body.status || error;
    } catch (_) { /* not JSON: keep the text */ }
    return { ok: false, status: response.status, ms, error: String(error) || `HTTP ${response.status}` };
  } catch (err) {
    const ms = Date.now() - started;
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      return { ok: false, status: 'timeout', ms, error: `no answer within ${timeoutMs}ms` };
    }
    const cause = err.cause && (err.cause.code || err.cause.message);
    return { ok: false, status: 'network', ms, error: cause ? String(cause) : err.message };
  }
}

// A lead submitted, tried again up to LEADPROSPER_RETRIES times (default 0, at most 10) when no
// answer came, each attempt with its own LEADPROSPER_TIMEOUT_MS: on a lossy link a fresh attempt
// gets through sooner than one waiting out TCP's doubling retransmissions. Resolves {ok, status,
// ms, error, attempts} (ms over every attempt); `log`, when given, gets a line per retry.
async function submitLead(lead, log) {
  const retries = Math.min(MAX_RETRIES, Math.max(0, Math.floor(Number(process.env.LEADPROSPER_RETRIES || 0)) || 0));
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    const result = await attemptLead(lead);
    if (result.ok || !RETRYABLE.has(result.status) || attempt > retries) {
      return { ...result, ms: Date.now() - started, attempts: attempt };
    }
    if (log) log.warn('Lead submission retried', { lead: lead.id, attempt, status: result.status, error: result.error });
  }
}

function parse(json) {
  try {
    return JSON.parse(json);
  } catch (_) {
    return null;
  }
}

// One lead through lead_processing to LeadProsper; logs as `log` (the caller's component).
// Returns the submission's result. Redis errors are thrown to the caller.
async function processLead(run, log, json) {
  const lead = parse(json);
  if (!lead || !lead.id) {
    log.warn('Lead dropped: not a lead record', { bytes: String(json).length });
    return { ok: false, status: 'invalid' };
  }
  await run('hset', (r) => r.hSet(PROCESSING, lead.id, json));
  const result = await submitLead(lead, log);
  if (result.ok) {
    await run('hdel', (r) => r.hDel(PROCESSING, lead.id));
    log.info('Lead submission succeeded', { lead: lead.id, status: result.status, ms: result.ms,
      attempts: result.attempts });
  } else {
    const failed = { ...lead, error: result.error, status: result.status, attempts: (lead.attempts || 0) + 1,
      failed_at: new Date().toISOString() };
    await run('move to lead_failed', (r) => r.multi().hDel(PROCESSING, lead.id)
      .hSet(FAILED, lead.id, JSON.stringify(failed)).exec());
    log.error('Lead submission failed', { lead: lead.id, status: result.status, error: result.error, ms: result.ms,
      attempts: result.attempts });
  }
  return result;
}

// Every failed lead back on the queue (without its error); returns their ids.
async function requeueFailed(run, log) {
  const failed = await run('hgetall', (r) => r.hGetAll(FAILED));
  const ids = [];
  for (const [id, json] of Object.entries(failed)) {
    const lead = parse(json) || { id };
    delete lead.error;
    delete lead.status;
    delete lead.failed_at;
    await run('requeue', (r) => r.multi().rPush(QUEUE, JSON.stringify(lead)).hDel(FAILED, id).exec());
    log.info('Lead requeued', { lead: id });
    ids.push(id);
  }
  return ids;
}

// Leads a previous run left in lead_processing go back to the front of the queue.
async function recoverProcessing(run, log) {
  const stuck = await run('hgetall', (r) => r.hGetAll(PROCESSING));
  for (const [id, json] of Object.entries(stuck)) {
    await run('recover', (r) => r.multi().rPush(QUEUE, json).hDel(PROCESSING, id).exec());
    log.warn('Lead recovered from lead_processing', { lead: id });
  }
  return Object.keys(stuck).length;
}

module.exports = { QUEUE, PROCESSING, FAILED, makeLead, payload, submitLead, processLead, requeueFailed,
  recoverProcessing };

import crypto from 'crypto';
import redis from '../../../../lib/redis';
import http from '../../../../lib/http';
import leads from '../../../../lib/leads';
import logging from '../../../../lib/log';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const { log, json } = http;
const BATCH = 100;
const BUDGET_MS = 20000; // stop taking new leads after this, so a hanging LeadProsper cannot hold the request

function authorized(given) {
  const expected = crypto.createHash('sha256').update(process.env.CRON_SECRET || '').digest();
  const actual = crypto.createHash('sha256').update(given || '').digest();
  return Boolean(process.env.CRON_SECRET) && Boolean(given) && crypto.timingSafeEqual(expected, actual);
}

async function counts() {
  const [queue, processing, failed] = await redis.run('counts', (r) => Promise.all([
    r.lLen(leads.QUEUE), r.hLen(leads.PROCESSING), r.hLen(leads.FAILED)]));
  return { queue, processing, failed };
}

function unavailable(err) {
  const detail = logging.reason(err);
  log.error(`Lead queue unavailable: ${detail}`);
  return json(503, { error: 'Redis unavailable', detail });
}

export const GET = http.handle(async () => {
  try {
    return json(200, await counts());
  } catch (err) {
    return unavailable(err);
  }
});

export const POST = http.handle(async (request) => {
  if (!authorized(request.headers.get('x-cron-secret'))) {
    log.warn('Cron request refused: bad or missing x-cron-secret');
    return json(401, { error: 'Unauthorized' });
  }
  const run = redis.run;
  const started = Date.now();
  const tally = { requeued: 0, processed: 0, submitted: 0, failed: 0 };
  try {
    tally.requeued = (await leads.requeueFailed(run, log)).length;
    while (tally.processed < BATCH && Date.now() - started < BUDGET_MS) {
      const next = await run('rpop', (r) => r.rPop(leads.QUEUE));
      if (next === null) break;
      tally.processed += 1;
      const result = await leads.processLead(run, log, next);
      if (result.ok) tally.submitted += 1;
      else tally.failed += 1;
    }
    const queue = await run('llen', (r) => r.lLen(leads.QUEUE));
    log.info('Cron lead run finished', { ...tally, queue });
    return json(200, { ...tally, queue });
  } catch (err) {
    return unavailable(err);
  }
});

'use strict';
// The lead worker (pm2 app `lead-worker`): takes leads off lead_queue one at a time and submits
// them to LeadProsper. A lead being submitted waits in lead_processing; a failed one goes to
// lead_failed for the cron route to requeue. While Redis is away it says so and retries each second.
const redis = require('../lib/redis');
const leads = require('../lib/leads');
const { logger, reason } = require('../lib/log');

const log = logger('lead-worker');
const RETRY_MS = 1000;
const BLOCK_SECONDS = 1;

let stopping = false;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  log.info('started', { pid: process.pid });
  let recovered = false;
  while (!stopping) {
    try {
      if (!recovered) {
        await leads.recoverProcessing(redis.run, log);
        recovered = true;
      }
      const popped = await redis.run('brpop', (r) => r.brPop(leads.QUEUE, BLOCK_SECONDS),
        (BLOCK_SECONDS + 2) * 1000);
      if (popped) await leads.processLead(redis.run, log, popped.element);
    } catch (err) {
      if (stopping) break;
      log.error(`Redis unavailable: ${reason(err)}`);
      await sleep(RETRY_MS);
    }
  }
  log.info('stopped', { pid: process.pid });
  await redis.getClient().quit().catch(() => {});
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
  });
}

main().catch((err) => {
  log.error(`Worker crashed: ${reason(err)}`);
  process.exit(1);
});

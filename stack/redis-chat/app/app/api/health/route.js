import redis from '../../../lib/redis';
import http from '../../../lib/http';
import settings from '../../../lib/settings';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const GET = http.handle(async () => {
  try {
    await redis.run('ping', (r) => r.ping(), 1000);
  } catch (_) {
    return http.json(503, { status: 'degraded', redis: 'down' });
  }
  return http.json(200, { status: 'ok', redis: 'ok', new_chat: settings.newChat });
});

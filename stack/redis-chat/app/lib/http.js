'use strict';
// The frame of every API route: a JSON answer, a 500 for anything unexpected, and one
// `Performance: METHOD PATH STATUS Nms` line per request.
const { logger } = require('./log');

const log = logger('app');

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

function handle(fn) {
  return async function route(request, context) {
    const started = Date.now();
    let response;
    try {
      response = await fn(request, context);
    } catch (err) {
      log.error('Unhandled error', { error: `${err.name}: ${err.message}` });
      response = json(500, { error: 'Internal Server Error' });
    }
    const path = new URL(request.url).pathname;
    log.info(`Performance: ${request.method} ${path} ${response.status} ${Date.now() - started}ms`);
    return response;
  };
}

module.exports = { json, handle, log };

'use strict';
// Practice-area detection: the chat completion's text, matched against keywords.
const CATEGORIES = [
  ['personal-injury', ['accident', 'injury', 'injured']],
  ['family-law', ['divorce', 'custody']],
  ['immigration', ['visa', 'immigration']],
  ['employment', ['fired', 'wage', 'employer']],
  ['criminal-defense', ['arrest', 'charged']],
];

function categoryOf(text) {
  const lower = String(text || '').toLowerCase();
  for (const [category, words] of CATEGORIES) {
    if (words.some((word) => lower.includes(word))) return category;
  }
  return 'general';
}

class UpstreamError extends Error {
  constructor(short, status) {
    super(short);
    this.name = 'UpstreamError';
    this.status = status;
  }
}

// POST {OPENAI_BASE_URL}/chat/completions; the completion's text, or an UpstreamError whose
// message is short: "upstream 429", "timeout", or the network error.
async function complete(message) {
  const base = (process.env.OPENAI_BASE_URL || 'http://api.openai.internal:8080/v1').replace(/\/+$/, '');
  const timeoutMs = Number(process.env.OPENAI_TIMEOUT_MS || 5000);
  let response;
  try {
    response = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${process.env.OPENAI_API_KEY || ''}` },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Classify the legal practice area of the visitor message and answer briefly.' },
          { role: 'user', content: String(message) },
        ],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new UpstreamError('timeout');
    const cause = err.cause && (err.cause.code || err.cause.message);
    throw new UpstreamError(cause ? String(cause) : err.message);
  }
  let body;
  try {
    body = await response.json();
  } catch (err) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new UpstreamError('timeout');
    body = null;
  }
  if (!response.ok) throw new UpstreamError(`upstream ${response.status}`, response.status);
  const content = body?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new UpstreamError('upstream answer without content', response.status);
  return content;
}

module.exports = { CATEGORIES, categoryOf, complete, UpstreamError };

// "This machine's server": when `hearth serve --app DIR` serves the app (native/serve_app.c), its
// OpenAI-compatible API answers on the same origin (the page's CSP already allows connect-src 'self'),
// and the app can chat with the model the server has loaded instead of running one in the browser.
// This module finds such a server and gives the app an engine-shaped object for it:
// chat.completions.create(req) streams the answer of POST /v1/chat/completions (Server-Sent Events)
// as the browser engine's chunks; the request's signal aborts the fetch, and the server frees the
// slot of a client that disconnects (native/serve_slots.c).

// What the server said went wrong, from OpenAI's error shape {"error": {"message", "type", "code"}};
// status 401: it wants an API key (hearth serve --api-key).
export class ServerError extends Error {
  constructor(message, status = 0, code = '') {
    super(message);
    this.name = 'ServerError';
    this.status = status;
    this.code = code;
  }
}

async function errorOf(res) {
  let e = null;
  try { e = (await res.json())?.error; } catch { /* not JSON: the status says it */ }
  const what = typeof e?.message === 'string' && e.message ? e.message : res.statusText || 'the request failed';
  return new ServerError(`${what} (HTTP ${res.status})`, res.status, typeof e?.code === 'string' ? e.code : '');
}

const headers = (key) => ({ 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) });

// Whether this page comes from hearth serve: its GET /health (native/serve_routes.c) answers
// {"status": "ok", "slots": N, "slots_busy": N, ...} without a key. The development server
// (web/serve.mjs) and static hosts have no /health, so the option never shows there. hearth serve puts
// the app at the origin's root: a page elsewhere (the development server's /web/app/) is not asked, so
// that it does not log a failed request (a 404) on every start.
export async function detectServer() {
  if (new URL('./', location.href).pathname !== '/') return false;
  try {
    const r = await fetch('/health', { cache: 'no-store' });
    if (!r.ok || !/json/.test(r.headers.get('content-type') || '')) return false;
    const h = await r.json();
    return h?.status === 'ok' && Number.isInteger(h.slots) && Number.isInteger(h.slots_busy);
  } catch { return false; }
}

// The id of the model the server has loaded (GET /v1/models: {"object": "list", "data": [{"id", ...}]});
// throws a ServerError (401 without the right key).
export async function serverModel(key) {
  let r;
  try {
    r = await fetch('/v1/models', { cache: 'no-store', headers: headers(key) });
  } catch (err) {
    throw new ServerError(`This machine's server does not answer (${err.message}). Is hearth serve still running?`);
  }
  if (!r.ok) throw await errorOf(r);
  const list = await r.json().catch(() => null);
  const id = list?.object === 'list' && Array.isArray(list.data) ? list.data[0]?.id : null;
  if (typeof id !== 'string' || !id) throw new ServerError('This machine\'s server lists no model (GET /v1/models)');
  return id;
}

// The data of each Server-Sent Event until "data: [DONE]", as parsed JSON; an {"error": ...} event
// (the server failed mid-answer) throws. Leaving early (the loop breaks, or the signal aborts the fetch)
// closes the connection.
async function* events(body) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let m;
      while ((m = /\r?\n\r?\n/.exec(buf))) {
        const ev = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        const data = ev.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (!data) continue;
        if (data === '[DONE]') return;
        let j;
        try { j = JSON.parse(data); } catch { throw new ServerError('This machine\'s server sent an event that is not JSON'); }
        if (j?.error) throw new ServerError(String(j.error.message || 'the server failed'), 0, String(j.error.code || ''));
        yield j;
      }
    }
    throw new ServerError('The connection to this machine\'s server ended before the answer did. Is hearth serve still running?');
  } finally {
    reader.cancel().catch(() => {});
  }
}

// An engine-shaped object for the server's model `model`; key() gives the API key (in memory, or '').
export function serverEngine({ model, key }) {
  return {
    server: true,
    info: { model: { name: model } },
    chat: {
      completions: {
        // The app's request (messages, sampling settings, signal); always streamed, with usage at the end.
        async create({ signal, ...req }) {
          const body = JSON.stringify({ ...req, model, stream: true, stream_options: { include_usage: true } });
          let res;
          try {
            res = await fetch('/v1/chat/completions', { method: 'POST', headers: headers(key()), body, signal, cache: 'no-store' });
          } catch (err) {
            if (err?.name === 'AbortError') throw err;
            throw new ServerError(`This machine's server does not answer (${err.message}). Is hearth serve still running?`);
          }
          if (!res.ok) throw await errorOf(res);
          return events(res.body);
        },
      },
    },
    async stats() { return { backend: 'server', model, origin: location.origin }; },
    async unload() {},
  };
}

// HTTP side of the model store: one request per model part, starting where
// the cache left off (Range + If-Range), and a pump that writes the body into
// a sink and, when the connection drops, asks again from the last byte it got.
// Network bytes are hostile: sizes come from the headers and are checked
// against what actually arrives.
import { AbortError, EngineError, ModelIntegrityError, ModelNotFoundError, NetworkError, UnsupportedModelError } from './errors.mjs';
import { pinFile } from './hf.mjs';
import { partHash } from './store_hash.mjs';
import { checkGgufHeader, formatBytes, GGUF_HEADER_BYTES } from './store_gguf.mjs';

const RETRIES = 5;

function abortError(url) { return new AbortError(`download of ${url} aborted`, { url }); }

// GET url from byte `from` (0: all). Returns {response, start, total, etag};
// start is where the body begins (0 when the server ignored the range, or the
// file changed since the ETag), total the full size or null when unknown.
// method 'HEAD' asks for the size and ETag only.
export async function requestFrom(url, from, etag, signal, method = 'GET') {
  const headers = {};
  if (from > 0) {
    headers.Range = `bytes=${from}-`;
    if (etag) headers['If-Range'] = etag;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, signal, cache: 'no-store' });
  } catch (e) {
    if (signal?.aborted) throw abortError(url);
    throw new NetworkError(`cannot reach ${url}: ${e.message} (offline, wrong host, or the server does not allow ` +
      'cross-origin requests)', { url });
  }
  if (response.status === 404 || response.status === 410) {
    throw new ModelNotFoundError(`${url}: no model there (HTTP ${response.status}); check the URL`, { url, status: response.status });
  }
  if (response.status === 416 && from > 0) {
    // Asked from past the end: the cached part is already whole, if the sizes agree.
    const total = Number(/\/(\d+)$/.exec(response.headers.get('Content-Range') || '')?.[1]);
    response.body?.cancel();
    if (total === from) return { response: null, start: from, total, etag };
    return requestFrom(url, 0, null, signal);
  }
  if (!response.ok) {
    throw new NetworkError(`${url}: HTTP ${response.status} ${response.statusText}`.trim(), { url, status: response.status });
  }
  const newEtag = response.headers.get('ETag');
  const strongEtag = newEtag && !newEtag.startsWith('W/') ? newEtag : null;
  if (response.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('Content-Range') || '');
    if (!m || Number(m[1]) !== from) {
      response.body?.cancel();
      throw new NetworkError(`${url}: asked for bytes from ${from}, the server sent ` +
        `"${response.headers.get('Content-Range')}"`, { url });
    }
    return { response, start: from, total: m[3] === '*' ? null : Number(m[3]), etag: strongEtag || etag };
  }
  const len = response.headers.get('Content-Length');
  // A compressed body's Content-Length is not the file size.
  const total = /^\d+$/.test(len || '') && !response.headers.get('Content-Encoding') ? Number(len) : null;
  return { response, start: 0, total, etag: strongEtag };
}

// What each part must be, before any of its bytes move: parts [{url, name, src?, sha256?, expectSize?,
// pin?}] get src (the URL to fetch: a hub file pinned to its commit), sha256 and expectSize (from
// expect[i] = {sha256, size}, a preset's, or from the hub) and pin ({commit, checked, unchecked?}).
// A part pinned on an earlier visit keeps its pin unless the hub could not be asked then, so a
// resumed download asks for the same version it began with.
export async function pinParts(parts, expect, signal) {
  await Promise.all(parts.map(async (p, i) => {
    if (p.pin?.checked || (p.pin?.commit && p.sha256)) return;
    const r = await pinFile(p.url, { sha256: p.sha256 ?? expect?.[i]?.sha256, size: p.expectSize ?? expect?.[i]?.size }, { signal });
    p.src = r.url;
    p.sha256 = r.sha256;
    p.expectSize = r.size;
    p.pin = { commit: r.commit, checked: r.checked, ...(r.unchecked ? { unchecked: r.unchecked } : {}) };
  }));
}

// The size a server reports for a part, against the size published for it: a different one is
// refused before the body is read; an unreported one is the published one (the cap of the download).
function settleTotal(part, total) {
  if (total != null && part.expectSize != null && total !== part.expectSize) {
    throw new ModelIntegrityError(`${part.name}: the server sends ${total} bytes, but the file was published with ` +
      `${part.expectSize}: not the file expected, refused before downloading it`, { file: part.name });
  }
  part.total = total ?? part.expectSize ?? null;
}
const fetchUrl = (part) => part.src || part.url;

// Parts downloading at once. HTTP/1.1 gives a page six connections per host,
// and a body waiting to be read holds one.
const POOL = 4;

// The first requests of a model's parts [{url, name, have, total, etag}]:
// GET from `have` for the first POOL parts, HEAD for the rest (their GET
// comes in their turn). Sets each part's total and (HEAD: for a part not
// begun) etag, so sizes are known before any body is read. Returns the GET
// answers (null for the HEAD ones).
export function openParts(parts, signal) {
  return Promise.all(parts.map(async (p, i) => {
    if (i < POOL) {
      const r = await requestFrom(fetchUrl(p), p.have, p.etag, signal);
      settleTotal(p, r.total);
      p.etag = r.etag;
      return r;
    }
    const r = await requestFrom(fetchUrl(p), 0, null, signal, 'HEAD');
    settleTotal(p, r.total);
    if (!p.have) p.etag = r.etag; // a begun part keeps the ETag its bytes came with
    return null;
  }));
}

// Runs fn(i) for every part index, POOL at a time; rejects at the first failure.
export async function eachPart(count, fn) {
  let next = 0;
  const lane = async () => { while (next < count) await fn(next++); };
  await Promise.all(Array.from({ length: Math.min(POOL, count) }, lane));
}

// The first bytes of a part as they arrive: the GGUF magic at 24 bytes,
// then checkHeader(bytes, fileSize, name) (the backend's header check,
// web/hearth.mjs checkHeader), which throws when the model cannot run there
// (an architecture, a tensor type), so such a file is refused after its
// first megabytes, not its gigabytes. A header longer than what came (large
// vocabularies) is checked again at twice the bytes, up to HEADER_MAX_BYTES.
const HEADER_FIRST_BYTES = 4 << 20, HEADER_MAX_BYTES = 64 << 20;
function headWatch(part, checkHeader) {
  let head = new Uint8Array(GGUF_HEADER_BYTES), got = 0, done = false;
  const check = (end) => {
    if (head.length === GGUF_HEADER_BYTES) {
      checkGgufHeader(head.subarray(0, got), part.name);
      if (!checkHeader) { done = true; return; }
    } else {
      const r = checkHeader(head.subarray(0, got), part.total ?? Number.MAX_SAFE_INTEGER, part.name);
      if (!r.needMore) { done = true; return; }
      if (end || head.length >= HEADER_MAX_BYTES) {
        throw new UnsupportedModelError(`${part.name}: its header does not end within the first ${formatBytes(got)}; ` +
          'hearth reads headers of up to 64 MiB', { file: part.name });
      }
    }
    const bigger = new Uint8Array(head.length === GGUF_HEADER_BYTES ? HEADER_FIRST_BYTES : head.length * 2);
    bigger.set(head.subarray(0, got));
    head = bigger;
  };
  return {
    // Bytes at file offset pos (only the ones that continue the head count).
    add(bytes, pos) {
      for (let at = got - pos; !done && at >= 0 && at < bytes.length;) {
        const take = Math.min(bytes.length - at, head.length - got);
        head.set(bytes.subarray(at, at + take), got);
        got += take;
        at += take;
        if (got === head.length) check(false);
      }
    },
    // The file ended at byte `end`: a head that holds the whole file is checked as it is.
    end(end) { if (!done && got > 0 && got === end) check(true); },
    restart() { head = new Uint8Array(GGUF_HEADER_BYTES); got = 0; done = false; },
    get want() { return done ? 0 : head.length - got; },
  };
}

// Writes one part's body into sink.write(chunk, at) from part.have on,
// resuming after dropped connections. req: the answer of openParts, or null
// to ask now. onBytes(pos) after every chunk; onRestart() when the server
// sends the file from its start (the sink must forget what it had). Checks
// the header as it arrives (headWatch; a resumed part's stored head is read
// back with sink.read(offset, dst) when the sink has it). A part with a sha256 is hashed as it
// arrives (a resumed one from its stored bytes first) and refused with ModelIntegrityError when the
// digest differs.
export async function pumpPart(part, req, sink, { signal, onBytes, onRestart, checkHeader }) {
  let pos = part.have || 0;
  const head = headWatch(part, checkHeader);
  const hash = part.sha256 ? partHash(part) : null;
  if (hash && pos > 0) {
    if (!sink.read) throw new EngineError(`${part.name}: cannot hash a resumed part this store cannot read back`);
    hash.addStored(sink, pos);
  }
  for (let at = 0; sink.read && head.want > 0 && at < pos;) {
    const stored = new Uint8Array(Math.min(head.want, pos - at));
    sink.read(at, stored);
    head.add(stored, at);
    at += stored.length;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const r = attempt === 0 && req ? req : await requestFrom(fetchUrl(part), pos, part.etag, signal);
      if (r.start !== pos) {
        onRestart?.();
        head.restart();
        hash?.restart();
        pos = 0;
      }
      part.etag = r.etag;
      settleTotal(part, r.total ?? part.total);
      if (r.response) {
        const reader = r.response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (part.total != null && pos + value.length > part.total) {
            throw new NetworkError(`${fetchUrl(part)}: the server sent more than the ${part.total} bytes it announced`, { url: fetchUrl(part) });
          }
          head.add(value, pos);
          sink.write(value, pos);
          hash?.add(value);
          pos += value.length;
          onBytes(pos);
        }
      }
      if (part.total != null && pos < part.total) throw new Error(`the connection closed at byte ${pos} of ${part.total}`);
      head.end(pos);
      hash?.check();
      return pos;
    } catch (e) {
      if (signal?.aborted) throw abortError(fetchUrl(part));
      // Worth another try: a dropped connection, an unreachable host, a server error (5xx).
      const transient = !(e instanceof EngineError) || (e instanceof NetworkError && !(e.status < 500));
      if (!transient) throw e;
      if (attempt >= RETRIES) {
        throw new NetworkError(`${fetchUrl(part)}: download failed at byte ${pos} after ${RETRIES} retries (${e.message}); ` +
          'load again to resume from there', { url: part.url, status: e.status });
      }
      await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
    }
  }
}

// Progress of several parts as one stream of events, at most every 100 ms
// (and always the last): {phase, file, loaded, total, bytes, totalBytes, rate, files, verify}.
// verify: {sha256: whether every part's bytes are checked against a published SHA-256, commits:
// the hub commits the parts are pinned to, unchecked: why not, where the hub could not be asked}.
// checkSize: for parts of unknown size (no Content-Length), checkSize(bytes so far) runs after
// every chunk, so a server that streams without end is refused once the model could not run
// anyway, not when the disk is full.
export function progressReporter(parts, onProgress, phase = 'download', checkSize = null) {
  const loaded = parts.map((p) => p.have || 0);
  const startBytes = loaded.reduce((a, b) => a + b, 0);
  const t0 = performance.now();
  let last = 0;
  return (i, pos, force = false) => {
    loaded[i] = pos;
    if (checkSize && parts[i].total == null) checkSize(loaded.reduce((a, b) => a + b, 0));
    const now = performance.now();
    if (!onProgress || (!force && now - last < 100)) return;
    last = now;
    const bytes = loaded.reduce((a, b) => a + b, 0);
    const known = parts.every((p) => p.total != null);
    onProgress({
      phase, file: parts[i].name, loaded: pos, total: parts[i].total,
      bytes, totalBytes: known ? parts.reduce((a, p) => a + p.total, 0) : null,
      rate: now > t0 ? Math.round(((bytes - startBytes) * 1000) / (now - t0)) : 0,
      files: parts.map((p, k) => ({ name: p.name, loaded: loaded[k], total: p.total })),
      verify: verification(parts),
    });
  };
}

// How far the bytes of parts (pinned by pinParts) are checked, for progress events and the engine's info.
export function verification(parts) {
  const commits = [...new Set(parts.map((p) => p.pin?.commit).filter(Boolean))];
  const unchecked = parts.map((p) => p.pin?.unchecked).find(Boolean);
  return { sha256: parts.every((p) => !!p.sha256), commits, ...(unchecked ? { unchecked } : {}) };
}

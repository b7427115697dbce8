// The browser test page's side (engine.html): loads models through
// web/client.mjs and reports what happened to engine.test.mjs, which calls
// window.T's functions through page.evaluate. Records main-thread long tasks
// (PerformanceObserver 'longtask': tasks over 50 ms) for the whole page life.
import * as client from '/web/client.mjs';
import { modelKey } from '/web/store.mjs';
import { OPFS_DIR } from '/web/store_opfs.mjs';

const longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push({ start: e.startTime, end: e.startTime + e.duration, duration: e.duration });
}).observe({ type: 'longtask', buffered: true });

let engine = null;
const errorOf = (e) => ({ name: e?.name, message: e?.message, typed: !!client[e?.name] && e instanceof client[e.name] });

window.T = {
  ready: true,
  isolated: crossOriginIsolated,
  // opts: createEngine's, with file: true for the File(s) picked in #file, and
  // abortOnProgress: true to abort the load at its first download progress event. exactNumerics
  // is on unless given: the tests compare answers with the native CLI's bit-exact ones.
  async load(opts) {
    const events = [];
    const t0 = performance.now();
    const ac = new AbortController();
    const onProgress = (e) => {
      events.push(e);
      if (opts.abortOnProgress && e.phase === 'download') ac.abort();
    };
    try {
      const model = opts.file ? [...document.getElementById('file').files] : opts.model;
      engine = await client.createEngine({ exactNumerics: true, ...opts, model: model.length === 1 ? model[0] : model, onProgress, signal: ac.signal });
      return { info: engine.info, events, t0, t1: performance.now() };
    } catch (e) { return { error: errorOf(e), events }; }
  },
  // A generation through kind 'chat' or 'complete'; abortAfter: abort once that many chunks with text came.
  async generate(kind, params, { abortAfter } = {}) {
    const api = kind === 'chat' ? engine.chat.completions : engine.completions;
    const ac = new AbortController();
    const t0 = performance.now();
    try {
      if (!params.stream) {
        const r = await api.create({ ...params, signal: ac.signal });
        return { t0, t1: performance.now(), text: kind === 'chat' ? r.choices[0].message.content : r.choices[0].text, finish: r.choices[0].finish_reason, usage: r.usage, object: r.object };
      }
      let text = '', chunks = 0, last = null;
      for await (const c of await api.create({ ...params, signal: ac.signal })) {
        const piece = kind === 'chat' ? c.choices[0].delta.content : c.choices[0].text;
        if (piece) { text += piece; chunks++; }
        if (chunks === abortAfter && !ac.signal.aborted) ac.abort();
        last = c;
      }
      return { t0, t1: performance.now(), text, chunks, finish: last.choices[0].finish_reason, usage: last.usage, object: last.object };
    } catch (e) { return { error: errorOf(e) }; }
  },
  async tokenize(text) { return engine.tokenize(text); },
  async stats() { return engine.stats(); },
  async unload() { await engine?.unload(); engine = null; },
  // Long tasks that overlap [t0, t1] (give the observer a moment to deliver them).
  async longTasksBetween(t0, t1) {
    await new Promise((r) => setTimeout(r, 300));
    return longTasks.filter((t) => t.end > t0 && t.start < t1);
  },
  list: () => client.listCachedModels(),
  remove: (id) => client.deleteCachedModel(id),
  estimate: () => client.storageEstimate(),
  // SHA-256 (hex) of a part of a model in the OPFS store, to compare with the file on disk.
  async cachedSha256(id, part = 1) {
    const dir = await (await (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_DIR)).getDirectoryHandle(await modelKey(id));
    const bytes = await (await (await dir.getFileHandle(`part-${part}.gguf`)).getFile()).arrayBuffer();
    return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
  },
};
document.getElementById('out').textContent = `ready; crossOriginIsolated=${crossOriginIsolated}`;

// hearth chat: wires the page (index.html) to the engine (engine.mjs), the
// conversation store (conversations.mjs) and the views. State lives here;
// everything that outlives a reload is in IndexedDB (conversations),
// localStorage (backend choice, last model) or the engine's model cache. A
// browser that blocks storage gets the app for one visit, with a notice.
// Served by `hearth serve --app`, the app may also chat with that server's
// model (server_backend.mjs); its API key is kept in memory only.
import * as convs from './conversations.mjs';
import { startEngine, cachedModels, deleteCached, describeBackend, errorsModule, hubSize, modelArg, persistStorage, withPresetUrls } from './engine.mjs';
import { enableCopyButtons, warmUp } from './markdown.mjs';
import { messageElement, streamingMessage, editInPlace, statsText, button } from './messages_view.mjs';
import { bytes, duration, rate } from './format.mjs';
import { explainLoadError } from './load_errors.mjs';
import { detectServer, serverModel, serverEngine } from './server_backend.mjs';

const $ = (id) => document.getElementById(id);
const GENERIC_DEFAULTS = { temperature: 0.7, top_p: 0.9, max_tokens: 512 };
const PREFS_KEY = 'hearth.prefs';
const PREFS_DEFAULTS = { backend: 'auto', threads: 0, lastModelUrl: null };

// localStorage, or null where the browser blocks it (a third-party frame, site data turned off):
// there even reading the property throws.
function prefsStorage() {
  try { return window.localStorage; } catch { return null; }
}
function readPrefs() {
  try { return { ...PREFS_DEFAULTS, ...JSON.parse(prefsStorage()?.getItem(PREFS_KEY) || '{}') }; } catch { return { ...PREFS_DEFAULTS }; }
}

const state = {
  engine: null, model: null, // model: { label, url?, preset?, file? }
  presets: [], conv: null, gen: null, loading: false, lastSource: null,
  prefs: readPrefs(),
  // This machine's server (hearth serve served the page): found, its model's id (null: not known yet),
  // and whether it asked for an API key. The key is never stored: it lasts until the page closes.
  server: { found: false, model: null, needsKey: false }, serverKey: '',
};
const savePrefs = () => {
  try { prefsStorage()?.setItem(PREFS_KEY, JSON.stringify(state.prefs)); } catch { /* storage full: they last this visit */ }
};

// ---------- model status, picker, loading ----------
function setStatus(text, kind = '') {
  const s = $('model-status');
  s.textContent = text;
  s.className = `status ${kind}`;
  const canChat = !!state.engine && text === 'ready';
  $('send').disabled = !canChat || !!state.gen;
  $('prompt').placeholder = canChat ? 'Message' : 'Message (load a model to chat)';
}

function defaultsFor(model) {
  return { ...GENERIC_DEFAULTS, ...(model?.preset?.defaults || {}) };
}

async function storageLine(need = 0) {
  let estimate;
  try { estimate = await navigator.storage.estimate(); } catch { return ''; } // blocked or missing: the storage notice says why
  const { usage = 0, quota = 0 } = estimate;
  const free = Math.max(0, quota - usage);
  let line = `Storage: ${bytes(usage)} used, ${bytes(free)} available to this site.`;
  if (need > free) line += ` This model needs ${bytes(need - free)} more than is available.`;
  return line;
}

function renderPresets() {
  const ul = $('presets');
  ul.replaceChildren();
  for (const p of state.presets) {
    const li = document.createElement('li');
    const text = document.createElement('span');
    text.className = 'ptext';
    const name = document.createElement('span');
    name.className = 'pname';
    name.textContent = `${p.name} ${p.quant}`;
    const meta = document.createElement('span');
    meta.className = 'pmeta';
    meta.textContent = `${p.sizeApproximate ? 'about ' : ''}${bytes(p.size)} download and storage`;
    text.append(name, meta);
    li.append(text, button('Download', () => loadModel({ urls: p.urls, preset: p, label: `${p.name} ${p.quant}` }),
      { testid: 'preset-load', aria: `Download and load ${p.name} ${p.quant}, ${p.sizeApproximate ? 'about ' : ''}${bytes(p.size)}` }));
    ul.append(li);
  }
}

// The size of the file at url as the hub's API publishes it (Hugging Face) or its server reports it
// (HEAD), or 0 where neither says.
async function headSize(url) {
  const published = await hubSize(url);
  if (published) return published;
  try {
    const r = await fetch(url, { method: 'HEAD' });
    const n = Number(r.headers.get('content-length'));
    return r.ok && n > 0 ? n : 0;
  } catch { return 0; } // a server without CORS for HEAD: the size shows once the download starts
}

// The size a model URL will take, asked of its server before downloading.
async function probeUrl(url) {
  const info = $('url-info');
  info.textContent = '';
  if (!/^https?:\/\//i.test(url)) return;
  const n = await headSize(url);
  if (n) info.textContent = `${bytes(n)} to download and store. ${await storageLine(n)}`;
}

// A model's name as shown: a preset's own; any other's file name and the host it came from, so a
// file from elsewhere named like a preset does not pass for one.
function modelLabel(name, url) {
  const preset = state.presets.find((p) => p.urls[0] === url);
  if (preset) return `${preset.name} ${preset.quant}`;
  let host = '';
  try { host = new URL(url).host; } catch { /* no host to show */ }
  return host ? `${name} (${host})` : name;
}

// A link (?model=URL) names a model: a preset loads at once; any other URL is fetched only once the
// person confirms, having seen its host and size (a link must neither fill this site's storage
// unasked nor pass a foreign file off as a model the person chose).
async function askLink(url) {
  let abs;
  try { abs = new URL(url, location.href); } catch { abs = null; }
  if (!abs || !/^https?:$/.test(abs.protocol)) {
    showError($('load-error'), 'The link names no model that can be downloaded', `${JSON.stringify(url)} is not an http(s) URL. Pick a model below.`, []);
    return;
  }
  if (state.presets.some((p) => p.urls[0] === abs.href)) { loadUrl(abs.href); return; }
  const box = $('link-confirm');
  const what = document.createElement('p');
  const strong = document.createElement('strong');
  strong.textContent = abs.host;
  what.append(`A link asks to download the model ${fileOf(abs.href)} from `, strong,
    '. It is not one of the suggested models: download it only if you trust that site.');
  const size = document.createElement('p');
  size.className = 'hint';
  size.textContent = 'Asking the server for its size…';
  const row = document.createElement('div');
  row.className = 'actions';
  row.append(
    button('Download', () => { box.hidden = true; loadUrl(abs.href); }, { cls: 'primary', testid: 'link-download' }),
    button('Cancel', () => { box.hidden = true; $('model-url').value = ''; }, { testid: 'link-cancel' }));
  box.replaceChildren(what, size, row);
  box.hidden = false;
  const n = await headSize(abs.href);
  size.textContent = n ? `${bytes(n)} to download and store. ${await storageLine(n)}` : 'Its size is unknown (the server does not say).';
}

const fileOf = (url) => url.split('/').pop().split('?')[0] || url;

function showLoad(p) {
  const box = $('load-box');
  box.hidden = false;
  box.dataset.phase = p.phase;
  const prog = $('load-progress');
  const phase = $('load-phase');
  const detail = $('load-detail');
  if (p.phase === 'download' || p.phase === 'cached') {
    phase.textContent = p.phase === 'cached' ? 'Loading from this device (cached, no download)' : 'Downloading';
    if (p.total > 0) { prog.max = p.total; prog.value = Math.min(p.loaded, p.total); } else prog.removeAttribute('value');
    detail.textContent = p.phase === 'cached' ? `${bytes(p.loaded)} of ${bytes(p.total)}`
      : `${bytes(p.loaded)} of ${p.total ? bytes(p.total) : '?'} · ${rate(p.rate)} · ${Number.isFinite(p.eta) ? `${duration(p.eta)} left` : 'estimating…'}${p.verify ? ` · ${p.verify}` : ''}`;
    setStatus(p.phase === 'cached' ? 'loading' : 'downloading');
  } else if (p.phase === 'start') {
    phase.textContent = 'Starting the engine';
    prog.max = 1; prog.removeAttribute('value');
    detail.textContent = '';
  } else if (p.phase === 'compile') {
    phase.textContent = 'Compiling shaders / warming up';
    prog.max = 1; prog.removeAttribute('value');
    detail.textContent = p.message || 'Preparing the model to run on this device…';
    setStatus('warming up');
  }
}

// A URL typed, linked (?model=) or remembered: absolute, with its preset's defaults if it is one.
function loadUrl(url) {
  let abs;
  try { abs = new URL(url, location.href).href; } catch { abs = url; }
  const preset = state.presets.find((p) => p.urls[0] === abs);
  loadModel({ urls: [abs], preset, label: modelLabel(fileOf(abs), abs) });
}

// This tab's hold (Web Locks, shared) on the stored model it runs or downloads, so that Delete in
// another tab sees it and refuses before touching its own engine.
const lockName = (id) => `hearth-model ${id}`;
function holdModel(id) {
  state.releaseModel?.();
  state.releaseModel = null;
  state.heldModel = null;
  if (!id || !navigator.locks) return;
  navigator.locks.request(lockName(id), { mode: 'shared' }, () => new Promise((release) => {
    state.heldModel = id;
    state.releaseModel = release;
  })).catch(() => {});
}
// Whether a tab other than this one holds the model with this id.
async function heldElsewhere(id) {
  let held = [];
  try { held = (await navigator.locks.query()).held.filter((l) => l.name === lockName(id)); } catch { return false; }
  return held.length > (state.heldModel === id ? 1 : 0);
}

async function loadModel(source) {
  if (state.loading) return;
  state.loading = true;
  state.lastSource = source;
  $('load-error').hidden = true;
  $('load-model').disabled = true;
  if (state.gen) stopGeneration();
  try {
    setStatus('loading');
    if (state.engine) { const old = state.engine; state.engine = null; await old.unload?.(); }
    holdModel(source.file ? null : source.urls[0]);
    showLoad({ phase: 'start', loaded: 0, total: 0, rate: 0, eta: NaN });
    const model = source.file || modelArg(source.urls, source.preset);
    // A model picked for the browser while the server was the choice: the browser picks its backend again.
    if (state.prefs.backend === 'server') { state.prefs.backend = 'auto'; savePrefs(); }
    const engine = await startEngine({
      model, backend: state.prefs.backend, threads: state.prefs.threads || undefined, onProgress: showLoad,
    });
    if (!source.file) { state.prefs.lastModelUrl = source.urls[0]; savePrefs(); persistStorage(); }
    await engineReady(engine, source);
  } catch (err) {
    holdModel(null);
    $('load-box').hidden = true;
    setStatus('error', 'error');
    showLoadError(err, source);
  } finally {
    state.loading = false;
    $('load-model').disabled = false;
  }
}

// An engine (the browser's, or this machine's server) ready to chat with the model source names.
async function engineReady(engine, source) {
  state.engine = engine;
  state.model = source;
  // A conversation not started yet takes the new model's sampling defaults.
  if (!state.conv.messages.length && !state.conv.settingsChosen) { state.conv.settings = defaultsFor(source); state.conv.model = source.label; }
  $('load-box').hidden = true;
  $('model-name').replaceChildren(source.label, ' ', button('Change', () => showModelPanel(true), { cls: 'link', testid: 'change-model' }));
  showModelPanel(false);
  await refreshBackendInfo();
  renderThinkSwitch();
  setStatus('ready', 'ready');
  $('prompt').focus();
}

// ---------- this machine's server (hearth serve --app) ----------
// The box in the model panel: the server's model, the key field when it asked for one.
function renderServerBox() {
  const sv = state.server;
  $('server-box').hidden = !sv.found;
  $('server-model').textContent = sv.model ? `${sv.model} is loaded` : sv.needsKey ? 'it needs an API key' : '';
  $('server-key-row').hidden = !sv.needsKey;
  const opt = $('set-backend').querySelector('option[value="server"]');
  if (sv.found && !opt) $('set-backend').append(Object.assign(document.createElement('option'), { value: 'server', textContent: "This machine's server" }));
}

// Whether the page came from hearth serve, and its model (or that it wants a key).
async function findServer() {
  state.server.found = await detectServer();
  if (state.server.found) {
    try { state.server.model = await serverModel(state.serverKey); } catch (err) { state.server.needsKey = err.status === 401; }
  }
  renderServerBox();
}

// Chat with the server's model: nothing to download or load, its id is asked of GET /v1/models.
async function useServer() {
  if (state.loading || !state.server.found) return;
  state.loading = true;
  $('load-error').hidden = true;
  if (state.gen) stopGeneration();
  const typed = $('server-key').value.trim();
  if (typed) state.serverKey = typed;
  try {
    setStatus('loading');
    if (state.engine) { const old = state.engine; state.engine = null; await old.unload?.(); }
    holdModel(null);
    const model = await serverModel(state.serverKey);
    Object.assign(state.server, { model, needsKey: false });
    if (state.prefs.backend !== 'server') { state.prefs.backend = 'server'; savePrefs(); }
    renderServerBox();
    await engineReady(serverEngine({ model, key: () => state.serverKey }), { label: `${model} (this machine's server)`, server: true });
  } catch (err) {
    state.engine = null;
    state.model = null;
    $('model-name').replaceChildren();
    setStatus('error', 'error');
    serverFailed(err);
    showError($('load-error'), "This machine's server cannot be used", err.message, [['Retry', useServer]]);
    showModelPanel(true);
  } finally {
    state.loading = false;
  }
}

// A 401 from the server: the key field shows (with the key cleared: it was wrong).
function serverFailed(err) {
  if (err?.status !== 401) return;
  state.server.needsKey = true;
  state.serverKey = '';
  $('server-key').value = '';
  renderServerBox();
  showModelPanel(true);
  $('server-key').focus();
}

async function showLoadError(err, source) {
  const { title, text, actions } = explainLoadError(err, await errorsModule(), {
    retry: () => loadModel(source),
    cpu: () => { state.prefs.backend = 'cpu'; savePrefs(); loadModel(source); },
    manage: openModels,
  });
  showError($('load-error'), title, text, actions);
  showModelPanel(true);
}

// An error box: what went wrong, what to do, and buttons ([label, fn]) that do it.
function showError(box, title, text, actions) {
  const strong = document.createElement('strong');
  strong.textContent = title;
  const p = document.createElement('p');
  p.textContent = text;
  const row = document.createElement('div');
  row.className = 'actions';
  for (const [label, fn] of actions) row.append(button(label, fn));
  box.replaceChildren(strong, p, row);
  box.hidden = false;
}

async function unloadModel() {
  if (state.gen) stopGeneration();
  const old = state.engine;
  state.engine = null;
  state.model = null;
  holdModel(null);
  $('model-name').replaceChildren();
  renderThinkSwitch();
  setStatus('no model');
  showModelPanel(true);
  await old?.unload?.();
}

function showModelPanel(show) {
  $('model-panel').hidden = !show;
  $('hide-model-panel').hidden = !state.engine;
  if (show) storageLine().then((t) => { $('storage-info').textContent = t; });
}

async function refreshBackendInfo() {
  let stats = null;
  try { stats = await state.engine?.stats?.(); } catch { /* shown as unknown */ }
  $('backend-info').textContent = state.engine ? describeBackend(stats) : 'No model loaded.';
}

// ---------- conversations ----------
// Conversations shown with more than the browser stored (it refused a write): their last message
// says so until a write succeeds.
const unsaved = new WeakSet();

// Stores c through write (convs.saveConversation or an append); true when the write went through.
// A write the browser refuses (its storage for this site is full, or refused) is said in the page,
// with what to delete (under title), rather than lost in the console; one refused because another
// tab changed the conversation first reloads it and says so.
async function save(c, title, write = convs.saveConversation) {
  try {
    await write(c);
  } catch (err) {
    if (err instanceof convs.ConflictError) {
      await reloadFromOtherTab(c.id);
      showError($('save-error'), title, `${err.message}.`, []);
      return false;
    }
    showError($('save-error'), title,
      `This browser's storage for this site is full, or it refused the write. To make room, delete stored models (Models) or old conversations, then try again. (${err?.message || err})`,
      [['Models', openModels]]);
    return false;
  }
  unsaved.delete(c);
  $('save-error').hidden = true;
  return true;
}

// Another tab wrote or deleted conversation id: the list follows, and so does the open conversation
// unless an answer is streaming into it (its own write then appends to what the other tab stored).
async function reloadFromOtherTab(id) {
  if (state.conv?.id === id && !state.gen) {
    const fresh = await convs.getConversation(id);
    if (fresh) { state.conv = fresh; renderConversation(); } else if (state.conv.messages.length) { await newChat(); return; }
  }
  await renderConvList();
}

async function renderConvList() {
  const ul = $('conv-list');
  const list = await convs.listConversations();
  ul.replaceChildren();
  for (const c of list) {
    const li = document.createElement('li');
    if (state.conv && c.id === state.conv.id) { li.className = 'current'; li.setAttribute('aria-current', 'true'); }
    const open = button(c.title, () => openConversation(c.id), { cls: 'open', testid: 'conversation' });
    open.title = c.title;
    li.append(open,
      button('✎', () => renameInline(li, c), { cls: 'act', aria: `Rename ${c.title}`, testid: 'rename' }),
      button('✕', (ev) => deleteWithConfirm(ev.currentTarget, c), { cls: 'act', aria: `Delete ${c.title}`, testid: 'delete' }));
    ul.append(li);
  }
}

function renameInline(li, c) {
  const input = document.createElement('input');
  input.value = c.title;
  input.setAttribute('aria-label', 'New name');
  li.replaceChildren(input);
  input.focus();
  input.select();
  let settled = false;
  const finish = async (keep) => {
    if (settled) return;
    settled = true;
    if (keep && input.value.trim()) {
      // Deleted meanwhile (by another tab): nothing to rename, and nothing brought back.
      const fresh = await convs.getConversation(c.id).catch(() => null);
      if (!fresh) { renderConvList(); return; }
      fresh.title = input.value.trim().slice(0, 120);
      if (await save(fresh, 'The new name could not be stored') && state.conv?.id === c.id) {
        state.conv.rev = fresh.rev;
        state.conv.title = fresh.title;
        $('conv-title').textContent = fresh.title;
      }
    }
    renderConvList();
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') finish(true);
    if (ev.key === 'Escape') { ev.stopPropagation(); finish(false); }
  });
  input.addEventListener('blur', () => finish(true));
}

async function deleteWithConfirm(btn, c) {
  if (btn.dataset.armed !== '1') {
    btn.dataset.armed = '1';
    const label = btn.textContent;
    btn.textContent = 'Delete?';
    setTimeout(() => { btn.dataset.armed = ''; btn.textContent = label; }, 3000);
    return;
  }
  try {
    await convs.deleteConversation(c.id);
  } catch (err) {
    showError($('save-error'), `"${c.title}" could not be deleted`, `The browser refused to change its storage for this site; reload the page and try again. (${err?.message || err})`, []);
    return;
  }
  if (state.conv?.id === c.id) await newChat();
  else renderConvList();
}

async function openConversation(id) {
  if (state.gen) stopGeneration();
  const c = await convs.getConversation(id);
  if (!c) return;
  state.conv = c;
  renderConversation();
  renderConvList();
  closeSidebar();
}

async function newChat() {
  if (state.gen) stopGeneration();
  state.conv = convs.newConversation({ model: state.model?.label || null, settings: defaultsFor(state.model) });
  renderConversation();
  await renderConvList();
  closeSidebar();
  $('prompt').focus();
}

function renderConversation() {
  const c = state.conv;
  renderThinkSwitch();
  $('conv-title').textContent = c.title;
  document.title = c.messages.length ? `${c.title} — hearth` : 'hearth chat';
  const list = $('messages');
  const nodes = [];
  const lastUser = c.messages.findLastIndex((m) => m.role === 'user');
  c.messages.forEach((m, i) => {
    const last = i === c.messages.length - 1;
    const actions = {};
    if (m.role === 'assistant' && last) actions.regenerate = regenerate;
    if (m.role === 'user' && i === lastUser) actions.edit = (ev) => editLast(ev.currentTarget.closest('.msg'));
    nodes.push(messageElement(m, actions, { unsaved: last && unsaved.has(c) }));
  });
  $('empty').hidden = nodes.length > 0;
  list.replaceChildren($('empty'), ...nodes);
  list.scrollTop = list.scrollHeight;
}

// ---------- chat ----------
// The conversation as the engine takes it: an answer's reasoning goes back as reasoning_content (never
// as <think> markup in its text), and the model's template decides what to keep (Qwen3's drops it from
// earlier turns; DeepSeek-R1's ignores it).
function chatMessages(c) {
  const m = c.messages.filter((x) => !x.error).map(({ role, content, reasoning, tool_calls: calls }) => ({
    role, content, ...(reasoning ? { reasoning_content: reasoning } : {}), ...(calls?.length ? { tool_calls: calls } : {}) }));
  return c.system.trim() ? [{ role: 'system', content: c.system }, ...m] : m;
}

// The thinking switch: shown where the model's chat template reads enable_thinking (Qwen3);
// per conversation (c.thinking, stored with it; on unless switched off).
const canSwitchThinking = () => !!state.engine?.info?.model?.enableThinking;
function renderThinkSwitch() {
  $('think-switch').hidden = !canSwitchThinking();
  $('think').checked = state.conv?.thinking !== false;
}

async function send() {
  const ta = $('prompt');
  const text = ta.value.trim();
  if (!text || !state.engine || state.gen || state.loading) return;
  const c = state.conv;
  const title = c.title;
  if (!c.messages.length) c.title = convs.titleFrom(text);
  const msg = { role: 'user', content: text };
  c.messages.push(msg);
  // Not stored, not sent: the text stays in the box to send again once there is room. Appended to
  // what is stored (another tab's turns stay); a conversation deleted meanwhile (by another tab) is not brought back.
  if (!await save(c, 'Your message was not sent: it could not be stored', async (x) => {
    if (!await convs.appendMessages(x, [msg], { onlyIfStored: x.messages.length > 1 })) throw new convs.ConflictError('another tab deleted this conversation');
  })) {
    c.messages.pop();
    c.title = title;
    return;
  }
  ta.value = '';
  autosize();
  renderConversation();
  renderConvList();
  await generate();
}

async function generate() {
  const c = state.conv;
  const s = { ...defaultsFor(state.model), ...c.settings };
  const list = $('messages');
  // The list follows the growing answer unless the person scrolled up: checked once per render, before it.
  const view = streamingMessage({
    around(render) {
      const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
      render();
      if (stick) list.scrollTop = list.scrollHeight;
    },
  });
  list.append(view.element);
  list.scrollTop = list.scrollHeight;
  const ac = new AbortController();
  const gen = { ac, stopped: false };
  state.gen = gen;
  $('stop').hidden = false;
  $('send').hidden = true;
  setStatus('ready', 'ready');
  const t0 = performance.now();
  let text = '', reasoning = '', calls = [], ttft = NaN, tokens = 0, usage = null, finish = null, tFirst = 0, error = null;
  try {
    const req = {
      messages: chatMessages(c), stream: true, max_tokens: Number(s.max_tokens), temperature: Number(s.temperature),
      top_p: Number(s.top_p), signal: ac.signal,
    };
    // Presets' other sampling defaults (Qwen3: top_k 20, min_p 0).
    for (const k of ['top_k', 'min_p']) if (s[k] != null) req[k] = Number(s[k]);
    if (canSwitchThinking()) req.enable_thinking = c.thinking !== false;
    const stream = await state.engine.chat.completions.create(req);
    for await (const chunk of stream) {
      if (gen.stopped) break;
      const ch = chunk.choices?.[0];
      const delta = ch?.delta?.content ?? '';
      const thought = ch?.delta?.reasoning_content ?? '';
      if (chunk.usage) usage = chunk.usage;
      if (ch?.finish_reason) finish = ch.finish_reason;
      // Streamed calls (OpenAI's delta.tool_calls: pieces of each call, by index), when the engine split them out.
      for (const d of Array.isArray(ch?.delta?.tool_calls) ? ch.delta.tool_calls : []) {
        // an index past the next call (a hostile server's 1e9 would make a sparse array to walk) is dropped
        const i = Number.isInteger(d?.index) ? d.index : calls.length;
        if (i < 0 || i > calls.length || i >= 128) continue;
        calls[i] ??= { id: d.id ?? `call${i}`, type: 'function', function: { name: '', arguments: '' } };
        calls[i].function.name += d.function?.name ?? '';
        calls[i].function.arguments += d.function?.arguments ?? '';
      }
      if (ch?.delta?.tool_calls) view.update(text, null, calls);
      if (!delta && !thought) continue;
      if (!tokens) { tFirst = performance.now(); ttft = tFirst - t0; }
      tokens++;
      if (thought) { reasoning += thought; view.reason(reasoning, `${tokens} tokens…`); }
      if (delta) { text += delta; view.update(text, `${tokens} tokens…`, calls); }
    }
  } catch (err) {
    if (!gen.stopped && err?.name !== 'AbortError') error = err?.message || String(err);
    if (state.engine?.server) serverFailed(err);
  }
  const tEnd = performance.now();
  view.finish();
  const n = usage?.completion_tokens ?? tokens;
  const decodeS = (tEnd - (tFirst || tEnd)) / 1000;
  const stats = { tokens: n, ttft, tps: n > 1 && decodeS > 0 ? (n - 1) / decodeS : NaN, stopped: gen.stopped, finish };
  // The engine's own timings when it has them (time in the worker, not in messaging).
  try {
    const es = await state.engine?.stats?.();
    if (es?.completionTokens != null && !error) {
      stats.tokens = es.completionTokens;
      if (es.timeToFirstTokenMs != null) stats.ttft = es.timeToFirstTokenMs;
      if (es.tokensPerSecond != null) stats.tps = es.tokensPerSecond;
    }
  } catch { /* keep the page's measurements */ }
  state.gen = null;
  $('stop').hidden = true;
  $('send').hidden = false;
  // Kept even when the person moved to another conversation meanwhile (which stopped it), but not
  // when they deleted this one (which stopped it too): a deleted conversation must stay deleted.
  const answer = { role: 'assistant', content: text, stats };
  if (reasoning) Object.assign(answer, { reasoning, thoughtMs: view.thoughtMs() });
  if (calls.length) answer.tool_calls = calls.filter(Boolean);
  if (error) answer.error = `Error: ${error}`;
  c.messages.push(answer);
  // An answer the browser would not store stays on screen, marked as not saved.
  if (!await save(c, 'The answer could not be stored', (x) => convs.appendMessages(x, [answer], { onlyIfStored: true }))) unsaved.add(c);
  if (state.conv === c) renderConversation();
  else view.element.remove();
  renderConvList();
  setStatus(state.engine ? 'ready' : 'no model', state.engine ? 'ready' : '');
  if (document.activeElement === document.body) $('prompt').focus();
}

function stopGeneration() {
  if (!state.gen) return;
  state.gen.stopped = true;
  state.gen.ac.abort();
}

async function regenerate() {
  const c = state.conv;
  if (state.gen || !state.engine || c.messages.at(-1)?.role !== 'assistant') return;
  const old = c.messages.pop();
  if (!await save(c, 'Not regenerated: the change could not be stored')) { c.messages.push(old); return; }
  renderConversation();
  await generate();
}

async function editLast(box) {
  const c = state.conv;
  if (state.gen) return;
  const i = c.messages.findLastIndex((m) => m.role === 'user');
  const text = await editInPlace(box, c.messages[i].content);
  if (text === null) return;
  c.messages.splice(i);
  c.messages.push({ role: 'user', content: text });
  if (i === 0) c.title = convs.titleFrom(text);
  const stored = await save(c, 'The edited message was not sent: it could not be stored');
  if (!stored) unsaved.add(c);
  renderConversation();
  if (stored && state.engine) await generate();
}

// ---------- dialogs ----------
function openSettings() {
  const c = state.conv;
  const s = { ...defaultsFor(state.model), ...c.settings };
  $('set-system').value = c.system;
  $('set-temperature').value = s.temperature;
  $('set-top-p').value = s.top_p;
  $('set-max-tokens').value = s.max_tokens;
  $('set-backend').value = state.prefs.backend;
  if (!$('set-backend').value) $('set-backend').value = 'auto'; // 'server' where no server served the page
  $('set-threads').value = state.prefs.threads || '';
  $('set-threads').placeholder = String(navigator.hardwareConcurrency || 1);
  refreshBackendInfo();
  $('settings-dialog').showModal();
}

function saveSettings() {
  const c = state.conv;
  const num = (id, lo, hi, dflt) => {
    const v = Number($(id).value);
    return $(id).value !== '' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt;
  };
  const d = defaultsFor(state.model);
  c.system = $('set-system').value;
  c.settingsChosen = true;
  c.settings = {
    temperature: num('set-temperature', 0, 2, d.temperature), top_p: num('set-top-p', 0, 1, d.top_p),
    max_tokens: Math.round(num('set-max-tokens', 1, 32768, d.max_tokens)),
  };
  const backend = $('set-backend').value;
  const toServer = backend === 'server' && !state.engine?.server, fromServer = backend !== 'server' && state.engine?.server;
  state.prefs.backend = backend;
  state.prefs.threads = Math.round(num('set-threads', 0, 64, 0));
  savePrefs();
  // The server's model is there already: choosing it switches at once; leaving it, a model is picked.
  if (toServer) useServer();
  else if (fromServer) unloadModel();
  if (c.messages.length) save(c, 'The settings could not be stored');
}

async function openModels() {
  const ul = $('cached-models');
  ul.replaceChildren();
  $('models-dialog').open || $('models-dialog').showModal();
  let list = [];
  try { list = await cachedModels(); } catch (e) { $('models-storage').textContent = `The model cache cannot be read: ${e.message}`; return; }
  for (const m of list) {
    const li = document.createElement('li');
    li.dataset.testid = 'cached-model';
    const name = document.createElement('span');
    name.className = 'cname';
    const title = document.createElement('span');
    title.textContent = m.orphan ? 'Unfinished download (its description is missing or damaged)' : modelLabel(m.name, m.urls[0]);
    title.title = m.urls[0] || m.name;
    const size = document.createElement('span');
    size.className = 'csize';
    // What a partial download holds now, of what it would hold.
    size.textContent = m.complete ? bytes(m.size) : `${bytes(m.size)} of ${m.total ? bytes(m.total) : 'unknown size'} (partly downloaded)`;
    name.append(title, size);
    const load = button('Load', () => { $('models-dialog').close(); loadModel({ urls: m.urls, label: modelLabel(m.name, m.urls[0]) }); }, { aria: `Load ${m.name}` });
    load.disabled = !m.urls.length || m.orphan;
    const del = button('Delete', async () => {
      try {
        // The store refuses to delete a model an engine has open: another tab's is refused here, before
        // this tab's engine is unloaded; this tab's own is unloaded first.
        if (await heldElsewhere(m.id)) throw new Error('it is open in another tab of this app: close it or load another model there first');
        if (state.engine && state.model?.urls?.[0] === m.urls[0]) await unloadModel();
        await deleteCached(m.id);
      } catch (e) { $('models-storage').textContent = `Could not delete ${m.name}: ${e.message}`; return; }
      openModels();
    }, { cls: 'danger', aria: `Delete ${m.name}`, testid: 'delete-model' });
    const actions = document.createElement('span');
    actions.className = 'cact';
    actions.append(load, del);
    li.append(name, actions);
    ul.append(li);
  }
  if (!list.length) ul.append(Object.assign(document.createElement('li'), { textContent: 'No models stored yet.' }));
  const total = list.reduce((a, m) => a + m.size, 0);
  $('models-storage').textContent = `${list.length} model${list.length === 1 ? '' : 's'}, ${bytes(total)}. ${await storageLine()}`;
}

// ---------- layout, keyboard ----------
function autosize() {
  const ta = $('prompt');
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight + 2, 200)}px`;
}
function closeSidebar() {
  $('sidebar').classList.remove('open');
  $('toggle-sidebar').setAttribute('aria-expanded', 'false');
}

function wire() {
  $('composer').addEventListener('submit', (ev) => { ev.preventDefault(); send(); });
  $('prompt').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(); }
  });
  $('prompt').addEventListener('input', autosize);
  $('stop').addEventListener('click', stopGeneration);
  $('think').addEventListener('change', () => {
    const c = state.conv;
    c.thinking = $('think').checked;
    if (c.messages.length) save(c, 'The thinking switch could not be stored');
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    if (state.gen) { ev.preventDefault(); stopGeneration(); } else if ($('sidebar').classList.contains('open')) { closeSidebar(); $('toggle-sidebar').focus(); }
  });
  $('new-chat').addEventListener('click', newChat);
  $('load-model').addEventListener('click', () => {
    const url = $('model-url').value.trim();
    if (!url) { $('model-url').focus(); return; }
    loadUrl(url);
  });
  $('model-url').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') $('load-model').click(); });
  $('model-url').addEventListener('change', () => probeUrl($('model-url').value.trim()));
  $('model-file').addEventListener('change', () => {
    const f = $('model-file').files?.[0];
    if (f) loadModel({ file: f, label: f.name });
  });
  $('hide-model-panel').addEventListener('click', () => showModelPanel(false));
  $('use-server').addEventListener('click', useServer);
  $('server-key').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') useServer(); });
  $('open-settings').addEventListener('click', openSettings);
  // Saved before the dialog closes, so a message sent right after uses the new settings.
  $('settings-save').addEventListener('click', () => { saveSettings(); $('settings-dialog').close(); });
  $('set-defaults').addEventListener('click', () => {
    const d = defaultsFor(state.model);
    $('set-temperature').value = d.temperature; $('set-top-p').value = d.top_p; $('set-max-tokens').value = d.max_tokens;
  });
  $('open-models').addEventListener('click', openModels);
  $('models-pick').addEventListener('click', () => { $('models-dialog').close(); showModelPanel(true); $('model-url').focus(); });
  $('toggle-sidebar').addEventListener('click', () => {
    const open = $('sidebar').classList.toggle('open');
    $('toggle-sidebar').setAttribute('aria-expanded', String(open));
    if (open) $('new-chat').focus();
  });
  enableCopyButtons($('messages'));
}

// Offline support. A frame that may not store anything refuses it: there even reading
// navigator.serviceWorker throws, and the app runs online only.
async function registerServiceWorker() {
  try { await navigator.serviceWorker?.register('sw.js'); } catch (e) { console.warn(`offline support unavailable: ${e.message}`); }
}

// The conversations as stored: the newest one open (a new one when there is none), the list beside it.
async function showConversations() {
  const list = await convs.listConversations();
  $('storage-notice').hidden = !!prefsStorage() && await convs.persistent();
  if (list.length) { state.conv = list[0]; renderConversation(); await renderConvList(); } else await newChat();
}

async function loadPresets() {
  try {
    return await withPresetUrls((await (await fetch('presets.json')).json()).presets);
  } catch { return []; }
}

async function main() {
  wire();
  convs.onOtherTabChange(({ id }) => reloadFromOtherTab(id).catch(() => {}));
  registerServiceWorker();
  showModelPanel(true);
  setStatus('no model');
  // After a reload the user waits for the remembered model: everything the page needs before it
  // loads (presets, conversations, the server check, the store's list, which starts the engine's
  // client) runs at once rather than one after another.
  const wanted = new URLSearchParams(location.search).get('model');
  // (not when this machine's server was chosen: no engine starts unless the server is gone)
  const lookup = () => cachedModels().catch(() => null); // null: no engine, the picker stays
  const stored = !wanted && state.prefs.lastModelUrl && state.prefs.backend !== 'server' ? lookup() : null;
  const server = findServer();
  const shown = showConversations();
  state.presets = await loadPresets();
  renderPresets();
  await shown;
  // ?model=URL preloads a model (asking first unless it is a preset); otherwise the last model used comes back if it is stored on this device.
  if (wanted) {
    $('model-url').value = wanted;
    askLink(wanted);
  } else if (state.prefs.backend === 'server' && (await server, state.server.model)) {
    useServer(); // chosen on an earlier visit
  } else if (state.prefs.lastModelUrl) {
    const hit = (await (stored ?? lookup()))?.find((m) => m.complete && m.urls.includes(state.prefs.lastModelUrl));
    if (hit) loadUrl(hit.urls[0]);
  }
  await server;
  warmUp();
  document.documentElement.dataset.appReady = '1';
}

// Test hook: lets the screenshot test show rendered states without a model.
window.hearthApp = { state, renderConversation, renderConvList, convs };
main();

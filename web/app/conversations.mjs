// Conversations kept in IndexedDB (database "hearth-app", store
// "conversations"): { id, title, created, updated, model, system,
// settings: { temperature, top_p, max_tokens }, thinking? (false: a reasoning model answers without
// thinking), messages: [{ role, content, stats?, reasoning?, thoughtMs? }] } (reasoning: an
// answer's reasoning_content, kept apart from its text).
// Where the browser refuses IndexedDB they are kept in memory for the page's life.
// Two tabs share the store: a turn is appended to the stored copy inside one readwrite transaction
// (another tab's turns stay), other changes carry a revision (rev) and are refused when another tab
// wrote first, and every write is announced on a BroadcastChannel so the other tabs refresh.
const DB_NAME = 'hearth-app';
const STORE = 'conversations';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`cannot open the conversation store: ${req.error?.message}`));
  });
}

// The operations over IndexedDB, one transaction each.
function idbStore(d) {
  const run = (mode, fn) => new Promise((resolve, reject) => {
    const tx = d.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req?.result);
    tx.onerror = () => reject(new Error(`conversation store: ${tx.error?.message}`));
    tx.onabort = () => reject(new Error(`conversation store: ${tx.error?.message || 'aborted'}`));
  });
  return {
    persistent: true,
    getAll: () => run('readonly', (s) => s.getAll()),
    get: (id) => run('readonly', (s) => s.get(id)),
    delete: (id) => run('readwrite', (s) => s.delete(id)),
    // Reads, changes (fn: stored copy or undefined -> the copy to write, or null for none) and writes
    // in one transaction, so a write or delete from another tab lands wholly before it or after it.
    update: async (id, fn) => {
      const out = { result: null, error: null };
      await run('readwrite', (s) => {
        const req = s.get(id);
        req.onsuccess = () => {
          try { out.result = fn(req.result); } catch (e) { out.error = e; return; } // nothing written
          if (out.result) s.put(out.result);
        };
      });
      if (out.error) throw out.error;
      return out.result;
    },
  };
}

// The same operations on copies in memory, for a browser that refuses IndexedDB.
function memoryStore() {
  const map = new Map();
  const copy = (conv) => conv && structuredClone(conv);
  return {
    persistent: false,
    getAll: async () => [...map.values()].map(copy),
    get: async (id) => copy(map.get(id)),
    delete: async (id) => { map.delete(id); },
    update: async (id, fn) => {
      const out = fn(copy(map.get(id)));
      if (out) map.set(id, copy(out));
      return out;
    },
  };
}

// Opened once. A browser that blocks storage (a third-party frame, site data turned off) throws or
// fails the open: conversations then last as long as the page.
let storePromise = null;
function store() {
  storePromise ??= openDb().then(idbStore, (err) => {
    console.warn(`conversations are kept in memory only: ${err.message}`);
    return memoryStore();
  });
  return storePromise;
}

// Whether conversations outlive the page.
export const persistent = async () => (await store()).persistent;

// Newest first.
export async function listConversations() {
  const all = await (await store()).getAll();
  return all.sort((a, b) => b.updated - a.updated);
}
export const getConversation = async (id) => (await store()).get(id);

// Other tabs hear of every write and delete ({id}); a browser without BroadcastChannel has one tab.
let channel = null;
try { channel = new BroadcastChannel('hearth-conversations'); } catch { /* one tab only */ }
const announce = (id) => { try { channel?.postMessage({ id }); } catch { /* closed */ } };
// fn({id}) on another tab's change.
export function onOtherTabChange(fn) {
  channel?.addEventListener('message', (ev) => { if (typeof ev.data?.id === 'string') fn(ev.data); });
}

// Thrown when another tab changed the conversation after this tab read it.
export class ConflictError extends Error {}

export async function deleteConversation(id) {
  await (await store()).delete(id);
  announce(id);
}

// Writes conv whole, unless another tab wrote it since this tab read it (its rev moved on):
// ConflictError then, and nothing written.
export async function saveConversation(conv) {
  const rev = conv.rev || 0;
  const next = { ...conv, rev: rev + 1, updated: Date.now() };
  await (await store()).update(conv.id, (stored) => {
    if (stored && (stored.rev || 0) !== rev) throw new ConflictError('another tab changed this conversation: it has been reloaded, try again');
    return next;
  });
  Object.assign(conv, { rev: next.rev, updated: next.updated });
  announce(conv.id);
  return true;
}

// Appends messages to the stored copy of conv in one transaction, so turns another tab stored
// meanwhile stay; conv (holding the messages already) then becomes the stored copy. A conversation
// not stored yet is stored whole, unless onlyIfStored: false then (deleted meanwhile, nothing written,
// so an answer that ends after a delete does not bring the conversation back).
export async function appendMessages(conv, messages, { onlyIfStored = false } = {}) {
  const merged = await (await store()).update(conv.id, (stored) => {
    if (!stored) return onlyIfStored ? null : { ...conv, rev: (conv.rev || 0) + 1, updated: Date.now() };
    if (!stored.messages.length) stored.title = conv.title;
    stored.messages.push(...structuredClone(messages));
    return { ...stored, rev: (stored.rev || 0) + 1, updated: Date.now() };
  });
  if (!merged) return false;
  Object.assign(conv, merged, { messages: [...merged.messages.slice(0, -messages.length), ...messages] });
  announce(conv.id);
  return true;
}

export function newConversation({ model = null, system = '', settings = {} } = {}) {
  const now = Date.now();
  return {
    id: `c${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    title: 'New chat', created: now, updated: now, model, system, settings: { ...settings }, messages: [],
  };
}

// A title from the first user message.
export function titleFrom(text) {
  const line = text.trim().split('\n')[0].replace(/\s+/g, ' ');
  return line.length > 48 ? `${line.slice(0, 47)}…` : line || 'New chat';
}

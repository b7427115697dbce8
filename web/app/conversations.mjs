// Conversations kept in IndexedDB (database "hearth-app", store
// "conversations"): { id, title, created, updated, model, system,
// settings: { temperature, top_p, max_tokens }, thinking? (false: a reasoning model answers without
// thinking), messages: [{ role, content, stats?, reasoning?, thoughtMs? }] } (reasoning: an
// answer's reasoning_content, kept apart from its text).
// Where the browser refuses IndexedDB they are kept in memory for the page's life.
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
    put: (conv) => run('readwrite', (s) => s.put(conv)),
    // The check and the write in one transaction, so a delete (from this tab or another) lands
    // wholly before it (nothing written) or after it.
    putIfStored: async (conv) => (await run('readwrite', (s) => {
      const req = s.getKey(conv.id);
      req.onsuccess = () => { if (req.result !== undefined) s.put(conv); };
      return req;
    })) !== undefined,
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
    put: async (conv) => { map.set(conv.id, copy(conv)); },
    putIfStored: async (conv) => {
      if (!map.has(conv.id)) return false;
      map.set(conv.id, copy(conv));
      return true;
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
export const deleteConversation = async (id) => (await store()).delete(id);
export async function saveConversation(conv) {
  conv.updated = Date.now();
  return (await store()).put(conv);
}
// Saves a conversation only while it is still stored: resolves to false (nothing written) when it
// was deleted meanwhile, so an answer that ends after the delete does not bring it back.
export async function saveIfStored(conv) {
  conv.updated = Date.now();
  return (await store()).putIfStored(conv);
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

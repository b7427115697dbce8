// Conversations kept in IndexedDB (database "hearth-app", store
// "conversations"): { id, title, created, updated, model, system,
// settings: { temperature, top_p, max_tokens }, messages: [{ role, content, stats? }] }.
const DB_NAME = 'hearth-app';
const STORE = 'conversations';

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`cannot open the conversation store: ${req.error?.message}`));
  });
  return dbPromise;
}

async function run(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req?.result);
    tx.onerror = () => reject(new Error(`conversation store: ${tx.error?.message}`));
    tx.onabort = () => reject(new Error(`conversation store: ${tx.error?.message || 'aborted'}`));
  });
}

// Newest first.
export async function listConversations() {
  const all = await run('readonly', (s) => s.getAll());
  return all.sort((a, b) => b.updated - a.updated);
}
export const getConversation = (id) => run('readonly', (s) => s.get(id));
export const deleteConversation = (id) => run('readwrite', (s) => s.delete(id));
export function saveConversation(conv) {
  conv.updated = Date.now();
  return run('readwrite', (s) => s.put(conv));
}
// Saves a conversation only while it is still stored: resolves to false (nothing written) when it
// was deleted meanwhile, so an answer that ends after the delete does not bring it back. The check
// and the write share one transaction: a delete (from this tab or another) lands wholly before or after.
export async function saveIfStored(conv) {
  conv.updated = Date.now();
  const key = await run('readwrite', (s) => {
    const req = s.getKey(conv.id);
    req.onsuccess = () => { if (req.result !== undefined) s.put(conv); };
    return req;
  });
  return key !== undefined;
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

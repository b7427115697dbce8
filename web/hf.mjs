// Hugging Face files pinned to a commit and checked against the hub's SHA-256.
// A `resolve/main` URL names whatever the branch holds at the time, so a resumed
// or repeated download could mix two versions and nothing says the bytes are the
// ones published. Before a download the store asks the hub's API
// (GET /api/models/{repo}/revision/{rev}?blobs=true: `sha` is the commit,
// `siblings[].lfs.sha256` and `.size` describe each LFS file) and then fetches
// resolve/{commit}/{file}, hashing the bytes as they arrive (store_download.mjs).
// Used by the store (worker), the app (presets.json) and tools/pin_presets.mjs.
import { ModelIntegrityError, ModelNotFoundError, NetworkError } from './errors.mjs';

export const HF_ORIGIN = 'https://huggingface.co';

const HEX40 = /^[0-9a-f]{40}$/, HEX64 = /^[0-9a-f]{64}$/;
export const isCommit = (s) => typeof s === 'string' && HEX40.test(s);
export const isSha256 = (s) => typeof s === 'string' && HEX64.test(s);

// The one builder of a file's download URL: {origin}/{repo}/resolve/{revision}/{file}.
export function hfFileUrl(repo, revision, file, origin = HF_ORIGIN) {
  return `${origin}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

export function hfApiUrl(repo, revision, origin = HF_ORIGIN) {
  return `${origin}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

// {origin, repo, revision, file} of a hub file URL ({origin}/{owner}/{name}/resolve/{rev}/{file}),
// or null for any other URL (only huggingface.co unless origin says otherwise). The hub's own
// "?download=true" (its download buttons) is allowed and dropped; any other query is not a hub file.
export function parseHfUrl(url, origin = HF_ORIGIN) {
  let u;
  try { u = new URL(url); } catch { return null; }
  if (u.origin !== origin || (u.search && u.search !== '?download=true')) return null;
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
  if (!m) return null;
  try {
    return { origin, repo: m[1], revision: decodeURIComponent(m[2]), file: m[3].split('/').map(decodeURIComponent).join('/') };
  } catch { return null; }
}

// From the API's answer about one revision: {commit, sha256, size} of `file` (sha256 and size null
// where the hub does not say: a file not in LFS has no sha256 there). Throws on an answer that
// does not describe the file, with what is wrong.
export function pinFromApi(json, file) {
  if (!isCommit(json?.sha)) throw new NetworkError('the hub\'s answer names no commit (no 40-hex "sha")');
  const sib = Array.isArray(json.siblings) ? json.siblings.find((s) => s?.rfilename === file) : null;
  if (!sib) throw new ModelNotFoundError(`the repository has no file ${file} at commit ${json.sha}; check the URL`, { file });
  const sha256 = isSha256(sib.lfs?.sha256) ? sib.lfs.sha256 : null;
  const n = Number(sib.lfs?.size ?? sib.size);
  return { commit: json.sha, sha256, size: Number.isSafeInteger(n) && n > 0 ? n : null };
}

// What to download for `url` and what its bytes must be, as far as anyone says:
// {url (the one to fetch), sha256, size, commit, checked}. expect: {sha256, size} given by the
// caller (a preset). A hub URL is asked of the API (unless it names a commit and its sha256 is
// given): `checked` says whether the hub answered; its url then names the commit. Where the API
// cannot be reached (offline, blocked, no CORS) the URL stays as given, with `unchecked` saying why.
export async function pinFile(url, expect = null, { signal, origin = HF_ORIGIN } = {}) {
  const given = { url, sha256: expect?.sha256 ?? null, size: expect?.size ?? null, commit: null, checked: false };
  const hf = parseHfUrl(url, origin);
  if (!hf) return given;
  if (isCommit(hf.revision)) given.commit = hf.revision;
  if (given.commit && given.sha256) return given; // pinned by the caller: nothing to ask
  let json;
  try {
    const r = await fetch(hfApiUrl(hf.repo, hf.revision, origin), { signal, cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    json = await r.json();
  } catch (e) {
    if (signal?.aborted) throw e;
    return { ...given, unchecked: `the hub's API could not be reached (${e.message})` };
  }
  const pin = pinFromApi(json, hf.file);
  if (given.sha256 && pin.sha256 && given.sha256 !== pin.sha256) {
    throw new ModelIntegrityError(`${hf.file}: the hub says its SHA-256 at ${pin.commit.slice(0, 12)} is ${pin.sha256}, ` +
      `but ${given.sha256} was expected: refused`, { file: hf.file, expected: given.sha256, actual: pin.sha256 });
  }
  return {
    url: hfFileUrl(hf.repo, pin.commit, hf.file, origin), sha256: given.sha256 ?? pin.sha256,
    size: pin.size ?? given.size, commit: pin.commit, checked: true,
  };
}

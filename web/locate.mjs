// Where the engine's files are. By default beside the modules that use them, written as
// `new Worker(new URL('./x.mjs', import.meta.url))` and `new URL('./dist/x.wasm', import.meta.url)`
// in place, the patterns bundlers (Vite, webpack 5, Parcel) follow to copy and fingerprint
// a package's workers and wasm without configuration. createEngine's locateFile(name) may put any
// of them elsewhere (a CDN, a static folder): the page calls it once per name and the engine
// worker gets the answers as {name: URL}, since a function cannot be posted to a worker.

// Every file the engine loads besides its modules.
export const ENGINE_FILES = ['engine_worker.mjs', 'thread_worker.mjs',
  'hearth.wasm', 'hearth-mt.wasm', 'hearth-relaxed.wasm', 'hearth-relaxed-mt.wasm'];

// {name: absolute URL} of the files locateFile(name) places (undefined or null: the default place).
export function locatedFiles(locateFile) {
  if (locateFile == null) return {};
  if (typeof locateFile !== 'function') throw new TypeError('locateFile must be a function (name) => URL of that file, or undefined for the default');
  const files = {};
  for (const name of ENGINE_FILES) {
    const url = locateFile(name);
    if (url == null) continue;
    try { files[name] = new URL(String(url), globalThis.location?.href).href; } catch {
      throw new TypeError(`locateFile(${JSON.stringify(name)}) gave ${JSON.stringify(String(url))}, which is not a URL${globalThis.location ? '' : ' (in Node, give a file: URL: url.pathToFileURL(path))'}`);
    }
  }
  return files;
}

// A file beside the engine's modules, for Node's worker_threads (a parameter, not a literal: bundlers
// would otherwise copy the worker a second time, unbundled, for a branch a browser never takes).
export const beside = (file) => new URL(/* webpackIgnore: true */ file, import.meta.url);

// One of Node's modules (node:fs...), imported by name at run time: bundlers building for browsers
// neither warn about nor fail on (webpack 5) the node: imports of branches a browser never takes.
export const nodeImport = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ name);

// A module Web Worker running the script at url. A browser starts workers of this origin only, so a
// script elsewhere (a CDN) runs through a same-origin blob worker that imports it; its own
// import.meta.url is then its URL, and what it loads beside itself comes from there too.
export function moduleWorker(url, name) {
  const href = new URL(url, globalThis.location?.href).href;
  if (globalThis.location && new URL(href).origin !== globalThis.location.origin) {
    const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(href)};`], { type: 'text/javascript' }));
    return new Worker(shim, { type: 'module', name });
  }
  return new Worker(href, { type: 'module', name });
}

// One compute thread of the shared-memory build (hearth-mt.wasm): it
// instantiates the module on the engine's memory, takes its own stack, and
// runs the core's parallel regions (hearth_wasm_thread_loop waits on atomics
// in wasm memory; no message passes per region). Browser Worker or Node
// worker_threads alike.
import { nodeImport } from './locate.mjs';

// No top-level await: bundlers may build workers as classic scripts (Vite's default worker format).
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof self === 'undefined';
let port = isNode ? null : self; // Node: worker_threads' parentPort, once imported

function unexpected(name) {
  return () => { throw new Error(`hearth compute thread: the core called ${name}, which only the engine thread provides`); };
}

async function run({ module, memory, id, stackTop }) {
  // Kernels call no import but the clock; every other one (files, GPU, WASI) is the engine thread's.
  const imports = { env: { memory } };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') continue;
    (imports[imp.module] ??= {})[imp.name] = unexpected(`${imp.module}.${imp.name}`);
  }
  imports.hearth.now_ms = () => performance.now();
  const inst = await WebAssembly.instantiate(module, imports);
  inst.exports.__stack_pointer.value = stackTop;
  post({ ready: id });
  try {
    inst.exports.hearth_wasm_thread_loop(id); // returns when the engine stops its threads
  } catch (e) {
    // A trap inside a region: the engine thread redoes the whole region and goes on alone.
    inst.exports.__stack_pointer.value = stackTop;
    inst.exports.hearth_wasm_thread_failed(id);
    post({ failed: id, error: String(e?.stack || e) });
    return;
  }
  post({ stopped: id });
}

function post(m) { port.postMessage(m); }

const onMessage = (m) => {
  run(m).catch((e) => post({ error: String(e?.stack || e) }));
};
// (Node keeps messages for a port until it has a listener; a browser worker's are queued until this script ran)
if (isNode) nodeImport('node:worker_threads').then((w) => { port = w.parentPort; port.once('message', onMessage); });
else self.onmessage = (ev) => onMessage(ev.data);

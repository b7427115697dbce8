#!/usr/bin/env node
// What the chat app's user feels (issue 18, "App overhead"), in headless Chromium on the CPU path
// (its own on-disk profile, no GPU flags):
// the app (web/app/, served as `make serve` does) loads a model by URL once (into OPFS), then each
// repetition reloads the page, lets the remembered model come back from browser storage, sends a
// short message the moment the app says "ready" and streams the answer. Beside it, in the same
// browser, the engine alone (bench/browser/hearth_worker.mjs: Hearth.generate, no worker messages,
// no page) decodes the same number of tokens on the same file with the same threads; the two take
// turns, so machine load hits both alike.
//
// usage: node bench/app_bench.mjs [--model FILE] [--threads 2] [--repetitions 3] [--max-tokens 64]
//          [--message TEXT]
//
// Every app time is taken in the page by a MutationObserver (the bench's own init script), never
// from the engine's self-report:
//   ttft_nav_ms    navigation start -> the first token on screen (the live "1 tokens…" counter the
//                  app updates once per token): the bar, the user's wait after a reload
//   ttft_send_ms   the click of send -> the same
//   first_text_nav_ms  navigation start -> the answer's first text on screen (the same unless the
//                  first tokens are blank)
//   ready_ms       navigation start -> the model status says "ready" (load_phases: when each load
//                  phase showed)
//   app_tok_s      tokens/s as the page received them: (n - 1) tokens over the time from the
//                  counter's first change to its last
//   screen_tok_s   the same over the first and last change of the answer's text on screen
//   stats_tok_s    the answer's stats line as the app shows it (which may be the engine's own)
//   engine_tok_s   the app's engine's own decode rate (its stats(): worker-side timings)
//   ref_tok_s      the engine alone (Hearth.generate in a worker of its own) on the same tokens count
//   main_cpu_ms_per_token  the page's main-thread CPU time per streamed token (Chromium's ThreadTime):
//                  taken from the cores the engine decodes on; main_ms_per_token, script_, layout_:
//                  the wall time of its tasks (TaskDuration), of script, of layout and style
// One JSON line per repetition, then {"summary": ...} with medians and the ratios against the bars:
// app_tok_s / ref_tok_s >= 0.95, ttft_nav_ms < 1000; app_vs_engine: the page's rate over its own
// engine's, the part of any gap that the app's messages and page add (the rest is the machine).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { CHROMIUM, WAIT_MS } from '../tests/browser/browser_util.mjs';
import { serveApp } from '../tests/browser/app_helpers.mjs';
import { startModelServer, fileEntry } from '../tests/browser/app_model_server.mjs';
import { TID, setSettings, waitStatus } from '../tests/browser/app_flow.mjs';
import { startServer, DEFAULT_MOUNTS } from '../web/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROBE_KEY = 'hearth.appbench';

function parseArgs(argv) {
  const o = { model: path.join(ROOT, 'build/models/bench/qwen2.5-0.5b-q4_0.gguf'), threads: 2, repetitions: 3, maxTokens: 64, message: 'Hello' };
  const names = { '--model': 'model', '--threads': 'threads', '--repetitions': 'repetitions', '--max-tokens': 'maxTokens', '--message': 'message' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || argv[i + 1] === undefined) {
      console.error(`usage: node bench/app_bench.mjs [${Object.keys(names).map((n) => `${n} V`).join('] [')}]`);
      process.exit(2);
    }
    o[key] = typeof o[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const k of ['threads', 'repetitions', 'maxTokens']) {
    if (!Number.isInteger(o[k]) || o[k] < 1) { console.error(`--${k}: a positive integer, please`); process.exit(2); }
  }
  if (o.maxTokens < 2) { console.error('--max-tokens: at least 2 (a rate needs a token after the first)'); process.exit(2); }
  o.model = path.resolve(o.model);
  if (!fs.existsSync(o.model)) {
    console.error(`${o.model}: no such model file; make it with node tools/make_test_model.mjs --arch qwen2 --tokenizer qwen3 ` +
      '--type q4_0 --shape qwen2.5-0.5b --out FILE, or give --model');
    process.exit(2);
  }
  return o;
}

// In the app page from its first script on (every navigation): timestamps of what the user sees.
// With sessionStorage[PROBE_KEY] = message, it sends that message the moment the app is ready, as a
// user waiting at the keyboard would (no round trip through the bench in between).
function probe(key) {
  const message = sessionStorage.getItem(key);
  // tokens: [count, t] as the live counter moved; paints: [count, t] as the answer's text changed on screen.
  const r = window.__appBench = { ready: NaN, sent: NaN, done: NaN, tokens: [], paints: [], phases: [] };
  let busy = null, counter = null, answer = null, lastCount = 0, lastLen = 0, phase = '';
  const onChange = () => {
    const t = performance.now();
    const box = document.getElementById('load-box');
    if (box && !box.hidden && box.dataset.phase && box.dataset.phase !== phase) { phase = box.dataset.phase; r.phases.push([phase, t]); }
    const status = document.getElementById('model-status');
    if (status?.textContent === 'error') r.wake?.();
    if (Number.isNaN(r.ready) && status?.textContent === 'ready') {
      r.ready = t;
      const send = document.getElementById('send');
      // In a task of its own, as a person's click comes: the app finishes the task that said "ready" first.
      if (message && !send.disabled) {
        setTimeout(() => {
          document.getElementById('prompt').value = message;
          r.sent = performance.now();
          send.click();
        });
      }
    }
    if (!busy) {
      busy = document.querySelector('#messages [aria-busy="true"]');
      if (!busy) return;
      counter = busy.querySelector('.stats');
      answer = busy.querySelector('.answer');
    }
    const n = parseInt(counter.textContent, 10);
    if (n > lastCount) { lastCount = n; r.tokens.push([n, t]); if (n === 1) r.wake?.(); }
    const len = answer.textContent.length;
    if (len !== lastLen) { lastLen = len; r.paints.push([lastCount, t]); }
    if (!busy.hasAttribute('aria-busy')) { r.done = t; busy = null; r.wake?.(); }
  };
  new MutationObserver(onChange).observe(document, { subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['data-phase', 'aria-busy', 'hidden'] });
}

const median = (v) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b), m = s.length >> 1;
  return !s.length ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 1) => (Number.isFinite(x) ? +x.toFixed(d) : null);
const rate = (n, ms) => (n > 1 && ms > 0 ? ((n - 1) * 1000) / ms : NaN);

// One repetition in the app: reload, wait for the answer to finish, read the probe and the app's state.
// The page's main thread so far, in ms (Chromium's own accounting): its CPU time, and the wall time of
// its tasks, script, layout and style (these grow when the machine is busy and the thread waits for a core).
async function mainThread(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map(({ name, value }) => [name, value]));
  return { cpu: m.ThreadTime * 1000, task: m.TaskDuration * 1000, script: m.ScriptDuration * 1000, layout: (m.LayoutDuration + m.RecalcStyleDuration) * 1000 };
}

async function appRun(page, cdp, o) {
  // The conversation keeps its settings (greedy, max tokens) but not the last turn: each answer starts
  // from the same short prompt, as the first message after a reload.
  await page.evaluate(async () => {
    const { state, convs } = window.hearthApp;
    state.conv.messages = [];
    await convs.saveConversation(state.conv);
  });
  await page.bringToFront(); // the reference's page opened later: the app's is the one the user looks at
  await page.evaluate(([k, m]) => sessionStorage.setItem(k, m), [PROBE_KEY, o.message]);
  await page.reload();
  let m0, m1, n0;
  try {
    // The main thread's work while the answer streams, from the first token to the last: what the page
    // takes per token from the cores the engine runs on.
    // The probe wakes these waits: Playwright's waitForFunction would run a check on every animation
    // frame, making the page draw frames the app does not ask for, on the cores the engine runs on.
    const until = (what) => page.evaluate((w) => new Promise((resolve) => {
      const r = window.__appBench;
      const check = () => {
        if (document.getElementById('model-status')?.textContent === 'error' || (w === 'first' ? r.tokens.length > 0 : Number.isFinite(r.done))) resolve();
        else r.wake = check;
      };
      check();
    }), what);
    await until('first');
    [m0, n0] = [await mainThread(cdp), await page.evaluate(() => window.__appBench.tokens.at(-1)?.[0] ?? 0)];
    await until('done');
    m1 = await mainThread(cdp);
  } catch (e) {
    throw new Error(`${e.message}; the page's probe: ${JSON.stringify(await page.evaluate(() => [window.__appBench, document.getElementById('model-status')?.textContent]))}`);
  }
  const status = await page.textContent(TID('model-status'));
  if (status === 'error') throw new Error(`the app could not load the model after a reload: ${await page.textContent('#load-error')}`);
  await page.evaluate((k) => sessionStorage.removeItem(k), PROBE_KEY);
  const { p, msg, line, es, nav } = await page.evaluate(async () => {
    const { state } = window.hearthApp;
    const last = [...document.querySelectorAll('[data-role="assistant"] .stats')].at(-1);
    const n = performance.getEntriesByType('navigation')[0];
    return { p: window.__appBench, msg: state.conv.messages.at(-1), line: last?.textContent ?? '', es: await state.engine.stats(),
      nav: { domContentLoaded: n?.domContentLoadedEventEnd, load: n?.loadEventEnd } };
  });
  if (msg?.role !== 'assistant' || msg.error) throw new Error(`the app gave no answer: ${JSON.stringify(msg)}`);
  const [n1, t1] = p.tokens[0] ?? [0, NaN], [nk, tk] = p.tokens.at(-1) ?? [0, NaN];
  const [s1, ts1] = p.paints[0] ?? [0, NaN], [sk, tsk] = p.paints.at(-1) ?? [0, NaN];
  return {
    tokens: msg.stats.tokens, counted_tokens: nk,
    ttft_nav_ms: round(t1), ttft_send_ms: round(t1 - p.sent), first_text_nav_ms: round(ts1), ready_ms: round(p.ready),
    dom_content_loaded_ms: round(nav.domContentLoaded),
    load_phases: Object.fromEntries(p.phases.map(([ph, t]) => [ph, round(t)])),
    app_tok_s: round(rate(nk - n1 + 1, tk - t1), 2),
    // (m1 - m0 over the tokens after the one sampled with m0)
    main_cpu_ms_per_token: round((m1.cpu - m0.cpu) / Math.max(1, nk - n0), 2), main_ms_per_token: round((m1.task - m0.task) / Math.max(1, nk - n0), 2), script_ms_per_token: round((m1.script - m0.script) / Math.max(1, nk - n0), 2),
    layout_ms_per_token: round((m1.layout - m0.layout) / Math.max(1, nk - n0), 2),
    screen_tok_s: round(rate(sk - s1 + 1, tsk - ts1), 2),
    stats_tok_s: round(msg.stats.tps, 2), stats_line: line,
    engine_tok_s: round(es.tokensPerSecond, 2), engine_ttft_ms: round(es.timeToFirstTokenMs), engine_prefill_ms: round(es.prefillMs),
    prompt_tokens: es.promptTokens, engine_load_ms: round(es.loadMs), kernels: es.kernels, threads: es.threads,
  };
}

// The engine alone: bench/browser's page and worker (browser_bench.mjs's hearth runs) on the same file.
async function startReference(context, host, o) {
  const server = await startServer({ mounts: { ...DEFAULT_MOUNTS, '/bench/browser/': path.join(ROOT, 'bench/browser'),
    '/wllama/': path.join(ROOT, 'tests/node_modules/@wllama/wllama/esm') } });
  const page = await context.newPage();
  await page.goto(`${server.url}/bench/browser/`);
  await page.waitForFunction(() => window.benchReady === true);
  const info = await page.evaluate((a) => window.bench.hearthLoad(a),
    { url: `${host.url}/${path.basename(o.model)}`, threads: o.threads, contextSize: 4096 });
  if (info.threads !== o.threads) console.error(`warning: the reference engine runs ${info.threads} thread(s): ${info.threadsNote}`);
  return {
    info,
    // prompt: as many tokens as the app's chat prompt, so decode runs at the same context positions.
    async run(promptTokens) {
      const words = Array.from({ length: promptTokens }, (_, i) => ['the', 'cat', 'sat', 'on', 'a', 'mat'][i % 6]).join(' ');
      await page.bringToFront(); // a background page's renderer runs at a lower priority: both engines in front
      const tokens = (await page.evaluate((t) => window.bench.hearthPromptTokens(t), words)).slice(0, promptTokens);
      const r = await page.evaluate((a) => window.bench.hearthRun(a), { tokens, genTokens: o.maxTokens });
      return { ref_tok_s: round(rate(r.stats.gen_tokens, r.stats.decode_ms), 2), ref_tokens: r.stats.gen_tokens, ref_ttft_ms: round(r.stats.ttft_ms) };
    },
    async close() {
      await page.evaluate(() => window.bench.hearthUnload());
      await page.close();
      await server.close();
    },
  };
}

function cpuName() {
  try { return fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model; } catch { return os.cpus()[0]?.model; }
}

// A fresh on-disk profile (OPFS on disk, as a user's) without the tests' GPU flags: their
// launchBrowser composites every frame through SwiftShader (for WebGPU), which would charge the app's
// painting to the cores the engine runs on, where a user's browser draws on the GPU.
async function launchProfile() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-appbench-'));
  const { chromium } = createRequire(path.join(ROOT, 'tests/'))('playwright-core');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  context.setDefaultTimeout(WAIT_MS);
  return {
    context, page: context.pages()[0] || await context.newPage(),
    close: async () => { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); },
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const server = await serveApp();
  const host = await startModelServer(fileEntry(o.model));
  const browser = await launchProfile();
  let ref = null;
  try {
    const { context, page } = browser;
    await context.addInitScript(probe, PROBE_KEY);
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${server.url}/`);
    await page.waitForSelector('html[data-app-ready="1"]');
    if (!await page.evaluate(() => crossOriginIsolated)) throw new Error('the app is not cross-origin isolated: threads cannot run');
    await setSettings(page, { backend: 'cpu', temperature: 0, maxTokens: o.maxTokens, threads: o.threads });
    const t0 = Date.now();
    await page.fill(TID('model-url'), `${host.url}/${path.basename(o.model)}`);
    await page.click(TID('load-model'));
    const ready = await waitStatus(page, 'ready');
    if (ready !== true) throw new Error(`the app could not load ${o.model}: ${ready}`);
    const firstLoad = { download_and_load_ms: Date.now() - t0 };
    const env = await page.evaluate(() => ({ userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency }));
    ref = await startReference(context, host, o);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    // Warm-up: one answer in the app (without a reload) and one reference run.
    await page.fill(TID('prompt'), o.message);
    await page.press(TID('prompt'), 'Enter');
    await page.waitForFunction(() => !window.hearthApp.state.gen && window.hearthApp.state.conv.messages.at(-1)?.role === 'assistant');
    await ref.run(16);
    const rows = [];
    for (let i = 0; i < o.repetitions; i++) {
      const app = await appRun(page, cdp, o);
      const r = { run: i + 1, ...app, ...await ref.run(app.prompt_tokens), load_avg: round(os.loadavg()[0], 2) };
      r.app_vs_engine = round(r.app_tok_s / r.engine_tok_s, 3);
      r.app_vs_ref = round(r.app_tok_s / r.ref_tok_s, 3);
      r.screen_vs_ref = round(r.screen_tok_s / r.ref_tok_s, 3);
      console.log(JSON.stringify(r));
      rows.push(r);
    }
    const med = (k) => median(rows.map((r) => r[k]));
    const summary = {
      model: path.basename(o.model), threads: o.threads, max_tokens: o.maxTokens, message: o.message, repetitions: o.repetitions,
      cpu: cpuName(), browser: env.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? env.userAgent, kernels: rows[0].kernels,
      wasm: `hearth${/relaxed/.test(rows[0].kernels) ? '-relaxed' : ''}${rows[0].threads > 1 ? '-mt' : ''}.wasm`,
      ...firstLoad,
      ...Object.fromEntries(['ttft_nav_ms', 'ttft_send_ms', 'ready_ms', 'main_cpu_ms_per_token', 'main_ms_per_token', 'app_tok_s', 'screen_tok_s', 'stats_tok_s', 'engine_tok_s', 'ref_tok_s',
        'engine_ttft_ms', 'engine_load_ms'].map((k) => [`${k}_median`, round(med(k), 2)])),
    };
    // What the app adds to its own engine (messages, the page): the same run's two clocks, so medians of the ratios.
    summary.app_vs_engine_median = round(median(rows.map((r) => r.app_vs_engine)), 3);
    summary.app_vs_ref = round(summary.app_tok_s_median / summary.ref_tok_s_median, 3);
    summary.screen_vs_ref = round(summary.screen_tok_s_median / summary.ref_tok_s_median, 3);
    summary.bars = {
      tokens_per_s_within_5pct: summary.app_vs_ref >= 0.95 && summary.screen_vs_ref >= 0.95,
      ttft_after_reload_under_1s: summary.ttft_nav_ms_median < 1000,
    };
    console.log(JSON.stringify({ summary }));
  } finally {
    await ref?.close().catch(() => {});
    await browser.close();
    await host.close();
    await server.close();
  }
}

main().catch((e) => { console.error(`app_bench: ${e.stack || e.message}`); process.exitCode = 1; });

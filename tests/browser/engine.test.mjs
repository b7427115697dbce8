// The browser runtime in headless Chromium (Debian's, playwright-core):
// engine.html loads test models from web/serve.mjs through the worker engine
// (web/client.mjs) and the model store. Checks: progress events, greedy text
// equal to the native CLI's, streaming equal to the whole answer, abort
// within one token, no main-thread task over 50 ms while generating, a reload
// served from the cache with zero model requests, a download cut off halfway
// resumed with Range into the right bytes, split models in parallel, the
// Cache API fallback, a picked File read in place, typed errors.
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from '../../web/serve.mjs';
import { check, done } from '../lib.mjs';
import { ensureModel, goldenFixtures } from '../e2e/golden_lib.mjs';
import { ROOT, sha256, SHARED } from '../e2e/util.mjs';
import { hugeModel, nativeRun, oddTypeModel, splitModel, splitParts } from '../e2e/runtime_lib.mjs';
import { launchBrowser, pageErrors } from './browser_util.mjs';

const urlPath = (file) => {
  const rel = path.relative(ROOT, file);
  if (!rel.startsWith('..')) return `/${rel.split(path.sep).join('/')}`;
  return `/shared/models/${path.relative(path.join(SHARED, 'models'), file).split(path.sep).join('/')}`;
};

const fixture = (name) => goldenFixtures(name).find((f) => f.name === name);
const stories = path.join(SHARED, 'models/stories260K.gguf');
const qwen = ensureModel(fixture('qwen2-qwen3-q4_0'));
const llama = ensureModel(fixture('llama-llama2-q8_0'));
const phi3 = ensureModel(fixture('phi3-llama2-q4_0'));
const llama3 = ensureModel(fixture('llama-llama3-q4_0'));
const llama3q5 = ensureModel(fixture('llama-llama3-q5_0'));
ensureModel(fixture('qwen2-qwen3-q8_0'));
const split = splitModel(8);

const server = await startServer();
const browser = await launchBrowser();
const { page } = browser;
const errors = pageErrors(page);
const open = async () => {
  await page.goto(`${server.url}/tests/browser/engine.html`);
  await page.waitForFunction(() => window.T?.ready);
};
const load = (opts) => page.evaluate((o) => window.T.load(o), opts);
const generate = (kind, params, extra) => page.evaluate(([k, p, e]) => window.T.generate(k, p, e), [kind, params, extra || {}]);
const unload = () => page.evaluate(() => window.T.unload());

try {
  await open();
  check('the test page is cross-origin isolated (COOP/COEP from web/serve.mjs)', await page.evaluate(() => window.T.isolated));

  // 1. stories260K: first load downloads with progress; greedy text equals the native CLI's.
  const storiesUrl = urlPath(stories);
  let r = await load({ model: storiesUrl, backend: 'cpu', threads: 2 });
  if (!check('stories260K loads through the worker', !r.error, JSON.stringify(r.error) + errors.join('\n'))) throw new Error('cannot go on');
  const dl = r.events.filter((e) => e.phase === 'download');
  check(`progress events arrive (${dl.length} download events, then load and ready)`, dl.length > 0 &&
    dl.at(-1).bytes === fs.statSync(stories).size && dl.at(-1).totalBytes === fs.statSync(stories).size &&
    dl.every((e) => typeof e.rate === 'number' && e.files.length === 1) && r.events.at(-1).phase === 'ready', JSON.stringify(r.events));
  check('first load is a download into OPFS', r.info.model.storage === 'opfs' && r.info.model.fromCache === false, JSON.stringify(r.info.model));
  check(`backend cpu, ${r.info.threads} threads (${r.info.threadsNote || 'as asked'})`, r.info.backend === 'cpu' && r.info.threads >= 1, JSON.stringify(r.info));
  const ref = nativeRun(stories, 'Once upon a time', 60);
  const streamed = await generate('complete', { prompt: 'Once upon a time', max_tokens: 60, temperature: 0, stream: true });
  check(`stories260K greedy streamed text equals the native CLI's (${streamed.chunks} chunks)`,
    streamed.text === ref.text && streamed.usage?.completion_tokens === ref.tokens.length && streamed.chunks > 1,
    `${JSON.stringify(streamed)} vs ${JSON.stringify(ref.text)}`);
  const whole = await generate('complete', { prompt: 'Once upon a time', max_tokens: 60, temperature: 0 });
  check('non-streamed answer equals the streamed one', whole.text === streamed.text && whole.object === 'text_completion', JSON.stringify(whole));
  const tokens = await page.evaluate(() => window.T.tokenize('Once upon a time'));
  check('tokenize equals the native prompt tokens (without BOS)', JSON.stringify(tokens) === JSON.stringify(ref.prompt_tokens.slice(1)), `${tokens} vs ${ref.prompt_tokens}`);
  const st = await page.evaluate(() => window.T.stats());
  check('stats: backend, threads, tokens/s, time to first token', st.backend === 'cpu' && st.threads >= 1 &&
    st.tokensPerSecond > 0 && st.timeToFirstTokenMs >= 0 && st.completionTokens === 60, JSON.stringify(st));
  await unload();

  // 2. The 11 MB qwen2 model, its download cut off halfway by the server once: resumed with Range.
  const qwenUrl = urlPath(qwen);
  server.cutOnce(qwenUrl);
  r = await load({ model: qwenUrl, backend: 'cpu', threads: 1 });
  const log = server.requestLog(qwenUrl);
  const from = Number(/^bytes=(\d+)-$/.exec(log[1]?.range || '')?.[1]);
  check(`a download cut off halfway resumes with Range (${log.map((l) => `${l.status} ${l.range || 'all'}`).join(', ')})`,
    !r.error && log.length === 2 && log[0].range === null && log[1].status === 206 && from > 0 && from < fs.statSync(qwen).size,
    JSON.stringify(r.error || log));
  if (!r.error) {
    const id = r.info.model.id;
    const loadLong = await page.evaluate(([a, b]) => window.T.longTasksBetween(a, b), [r.t0, r.t1]);
    check(`no main-thread task over 50 ms while downloading and loading (${(r.t1 - r.t0).toFixed(0)} ms)`, loadLong.length === 0, JSON.stringify(loadLong));
    check('the resumed download stored the right bytes (SHA-256 equals the file)',
      await page.evaluate(([i]) => window.T.cachedSha256(i), [id]) === sha256(qwen));
    // 3. Responsiveness, streaming and abort on a model slow enough to take a while.
    const qref = nativeRun(qwen, 'The old lighthouse keeper', 150);
    const g = await generate('complete', { prompt: 'The old lighthouse keeper', max_tokens: 150, temperature: 0, stream: true });
    check('qwen2 greedy text after the resumed download equals the native CLI\'s', g.text === qref.text, `${JSON.stringify(g.text)} vs ${JSON.stringify(qref.text)}`);
    const long = await page.evaluate(([a, b]) => window.T.longTasksBetween(a, b), [g.t0, g.t1]);
    check(`no main-thread task over 50 ms while generating (${(g.t1 - g.t0).toFixed(0)} ms of generation)`, long.length === 0, JSON.stringify(long));
    const a = await generate('complete', { prompt: 'The old lighthouse keeper', max_tokens: 200, temperature: 0, stream: true }, { abortAfter: 3 });
    check(`abort stops within one token (${a.usage?.completion_tokens} tokens after aborting at 3 chunks)`,
      a.finish === 'abort' && a.usage.completion_tokens <= 4, JSON.stringify(a));
    const chatS = await generate('chat', { messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 20, temperature: 0, stream: true });
    const chatW = await generate('chat', { messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 20, temperature: 0 });
    check('chat: streamed chunks concatenate to the non-streamed answer', !chatS.error && chatS.text === chatW.text &&
      chatS.object === 'chat.completion.chunk' && chatW.object === 'chat.completion', JSON.stringify([chatS, chatW]));
  }
  await unload();

  // 3a. The default numerics (no exactNumerics): the faster kernels, in Chromium those of the
  // relaxed-SIMD build (its Q4_0 FFN down matrices repacked), whose greedy answer on this model
  // equals the exact one (wasm.test.mjs compares them with llama.cpp's on every Q4_0/Q8_0 model).
  r = await load({ model: qwenUrl, backend: 'cpu', threads: 2, exactNumerics: false });
  if (check('default numerics: the relaxed-SIMD build\'s fast kernels (simd128-relaxed)', !r.error && r.info.kernels === 'simd128-relaxed', JSON.stringify(r.error || r.info))) {
    const qfx = fixture('qwen2-qwen3-q4_0');
    const fref = nativeRun(qwen, qfx.prompt, 32);
    const f = await generate('complete', { prompt: qfx.prompt, max_tokens: 32, temperature: 0 });
    check('default numerics: greedy text equals the native CLI\'s', f.text === fref.text, `${JSON.stringify(f.text)} vs ${JSON.stringify(fref.text)}`);
  }
  await unload();

  // 3b. A download that fails for good (cut off, then 503 on every retry) stops with NetworkError;
  // after a reload, loading again asks only for the missing bytes.
  const l3Url = urlPath(llama3);
  server.cutOnce(l3Url, 5);
  r = await load({ model: l3Url, backend: 'cpu', threads: 1 });
  const partial = (await page.evaluate(() => window.T.list())).find((m) => m.id.endsWith(l3Url));
  check(`a download failing after its retries stops with NetworkError (${r.error?.message?.slice(0, 80)})`,
    r.error?.name === 'NetworkError' && r.error.typed && partial && !partial.complete, JSON.stringify(r.error || 'loaded'));
  await open();
  server.resetCounts();
  r = await load({ model: l3Url, backend: 'cpu', threads: 1 });
  const l3log = server.requestLog(l3Url);
  const l3from = Number(/^bytes=(\d+)-$/.exec(l3log[0]?.range || '')?.[1]);
  check(`after a reload the download resumes from the stored bytes (${l3log.map((l) => `${l.status} ${l.range}`).join(', ')})`,
    !r.error && l3log.length === 1 && l3log[0].status === 206 && l3from > 0, JSON.stringify(r.error || l3log));
  if (!r.error) {
    check('the download resumed after a reload stored the right bytes (SHA-256 equals the file)',
      await page.evaluate(([i]) => window.T.cachedSha256(i), [r.info.model.id]) === sha256(llama3));
  }
  await unload();

  // 3c. A load aborted (AbortSignal) while downloading: AbortError, the bytes so far are kept,
  // and the next load asks only for the rest.
  const q5Url = urlPath(llama3q5);
  r = await load({ model: q5Url, backend: 'cpu', threads: 1, abortOnProgress: true });
  const kept = (await page.evaluate(() => window.T.list())).find((m) => m.id.endsWith(q5Url));
  check('a load aborted while downloading rejects with AbortError and keeps the partial download',
    r.error?.name === 'AbortError' && r.error.typed && kept && !kept.complete, JSON.stringify(r.error || 'loaded'));
  server.resetCounts();
  r = await load({ model: q5Url, backend: 'cpu', threads: 1 });
  const q5log = server.requestLog(q5Url);
  check(`loading it again resumes from the kept bytes (${q5log.map((l) => `${l.status} ${l.range}`).join(', ')})`,
    !r.error && q5log.length === 1 && q5log[0].status === 206, JSON.stringify(r.error || q5log));
  if (!r.error) {
    check('... into the right bytes (SHA-256 equals the file)', await page.evaluate(([i]) => window.T.cachedSha256(i), [r.info.model.id]) === sha256(llama3q5));
  }
  await unload();

  // 4. Reload: stories260K comes from the cache, no request for it reaches the server.
  server.resetCounts();
  await open();
  r = await load({ model: storiesUrl, backend: 'cpu', threads: 1 });
  check('after a reload the model loads from the cache with zero model requests', !r.error && server.requests(storiesUrl) === 0 &&
    r.info.model.fromCache === true && r.events.some((e) => e.phase === 'cached'), `${server.requests(storiesUrl)} requests; ${JSON.stringify(r.error || r.events)}`);
  const again = await generate('complete', { prompt: 'Once upon a time', max_tokens: 60, temperature: 0 });
  check('the cached model gives the same greedy text', again.text === ref.text, JSON.stringify(again));
  // A second tab opens the same cached model while the first holds it (read-only access handles).
  const tab2 = await browser.context.newPage();
  await tab2.goto(`${server.url}/tests/browser/engine.html`);
  await tab2.waitForFunction(() => window.T?.ready);
  const r2 = await tab2.evaluate((m) => window.T.load({ model: m, backend: 'cpu', threads: 1 }), storiesUrl);
  const g2 = r2.error ? r2 : await tab2.evaluate(() => window.T.generate('complete', { prompt: 'Once upon a time', max_tokens: 60, temperature: 0 }));
  check('a second tab loads the same cached model at the same time', !r2.error && r2.info.model.fromCache && g2.text === ref.text,
    JSON.stringify(r2.error || g2));
  await tab2.close();
  const inUse = await page.evaluate(([i]) => window.T.remove(i).then(() => 'removed', (e) => e.message), [r.info?.model?.id]);
  check(`deleteCachedModel refuses a model in use (${inUse})`, /in use/.test(inUse), inUse);
  await unload();
  const list = await page.evaluate(() => window.T.list());
  const sid = list.find((m) => m.id.endsWith(storiesUrl));
  check(`listCachedModels lists the downloaded models (${list.length})`, sid?.complete && sid.bytes === fs.statSync(stories).size &&
    list.some((m) => m.id.endsWith(qwenUrl)), JSON.stringify(list));
  const removed = await page.evaluate(([i]) => window.T.remove(i), [sid?.id]);
  const after = await page.evaluate(() => window.T.list());
  check('deleteCachedModel removes it', removed === true && !after.some((m) => m.id === sid?.id), JSON.stringify(after));

  // 5. A split model in 8 parts: four download at a time (HTTP/1.1 allows six connections), the
  // others' sizes come from HEAD requests first, so the quota and size checks see the whole model.
  const splitUrl = urlPath(split);
  r = await load({ model: splitUrl, backend: 'cpu', threads: 1 });
  const parts = splitParts(split).map(urlPath);
  const gets = parts.map((p) => server.requestLog(p).filter((l) => l.method === 'GET').length);
  check(`a split model downloads each of its ${parts.length} parts once and loads (GETs: ${gets})`, !r.error && gets.every((n) => n === 1) &&
    r.events.filter((e) => e.phase === 'download').at(-1).files.length === parts.length, JSON.stringify(r.error || parts.map((p) => server.requestLog(p))));
  if (!r.error) {
    const sref = nativeRun(split, 'Hello world', 20);
    const sg = await generate('complete', { prompt: 'Hello world', max_tokens: 20, temperature: 0 });
    check('split model greedy text equals the native CLI\'s', sg.text === sref.text, `${JSON.stringify(sg.text)} vs ${JSON.stringify(sref.text)}`);
  }
  await unload();

  // 6. The Cache API fallback: download, then a reload served from the cache.
  const llamaUrl = urlPath(llama);
  r = await load({ model: llamaUrl, backend: 'cpu', threads: 1, storage: 'cache' });
  check('Cache API fallback: the model downloads and loads', !r.error && r.info.model.storage === 'cache' && !r.info.model.fromCache, JSON.stringify(r.error || r.info));
  const lref = nativeRun(llama, 'Hello world', 20);
  const lg = await generate('complete', { prompt: 'Hello world', max_tokens: 20, temperature: 0 });
  check('Cache API model greedy text equals the native CLI\'s', lg.text === lref.text, `${JSON.stringify(lg.text)} vs ${JSON.stringify(lref.text)}`);
  await unload();
  server.resetCounts();
  await open();
  r = await load({ model: llamaUrl, backend: 'cpu', threads: 1, storage: 'cache' });
  check('Cache API fallback: after a reload, zero model requests', !r.error && r.info.model.fromCache && server.requests(llamaUrl) === 0,
    `${server.requests(llamaUrl)} requests; ${JSON.stringify(r.error)}`);
  await unload();

  // 7. A File picked by the user, read in place.
  await page.setInputFiles('#file', phi3);
  r = await load({ file: true, backend: 'cpu', threads: 1 });
  const pref = nativeRun(phi3, 'Hello world', 20);
  const pg = r.error ? r : await generate('complete', { prompt: 'Hello world', max_tokens: 20, temperature: 0 });
  check('a picked File loads in place (no request) and its greedy text equals the native CLI\'s', !r.error && r.info.model.storage === 'file' &&
    pg.text === pref.text, JSON.stringify(r.error || pg));
  await unload();

  // 8. Typed errors, rebuilt as their classes on the page.
  const expectError = async (what, opts, name) => {
    const e = await load(opts);
    check(`${what}: ${name} (${e.error?.message?.slice(0, 100)})`, e.error?.name === name && e.error.typed && e.error.message.length > 20, JSON.stringify(e.error || 'loaded'));
    if (!e.error) await unload();
  };
  await expectError('a URL with no model', { model: '/build/models/no-such-model.gguf', backend: 'cpu' }, 'ModelNotFoundError');
  await expectError('a URL that is not a GGUF', { model: '/web/client.mjs', backend: 'cpu' }, 'UnsupportedModelError');
  // A tensor type hearth does not run, in a 1 GiB file: refused by the header check after the
  // first megabytes of the download, naming the tensor and its type; nothing kept.
  const odd = urlPath(oddTypeModel(stories, 'blk.0.ffn_down.weight', 17));
  const oddErr = await load({ model: odd, backend: 'cpu' });
  const oddSent = server.requestLog(odd).reduce((a, l) => a + l.sent, 0);
  check(`an unsupported tensor type is refused from the header (${oddErr.error?.message?.slice(0, 120)})`,
    oddErr.error?.name === 'UnsupportedModelError' && /tensor blk\.0\.ffn_down\.weight has type iq2_xs/.test(oddErr.error.message) &&
    oddSent < 64 * 1024 ** 2 &&
    !(await page.evaluate(() => window.T.list())).some((m) => m.id.endsWith(odd)),
  `${oddSent} bytes sent; ${JSON.stringify([oddErr.error, server.requestLog(odd)])}`);
  if (!oddErr.error) await unload();
  const huge = urlPath(hugeModel(stories));
  await expectError('a 5 GiB model on the CPU path', { model: huge, backend: 'cpu' }, 'ModelTooLargeError');
  const hugeLog = server.requestLog(huge);
  check('the too-large model was refused before its body was read (one request, nothing cached)',
    hugeLog.length === 1 && !(await page.evaluate(() => window.T.list())).some((m) => m.id.endsWith(huge) && m.bytes > 0 && m.complete), JSON.stringify(hugeLog));
  // A model larger than the storage quota (a sparse file of quota + 1 GiB; the quota is checked
  // before the CPU path's size limit): refused once the headers are in, before its body.
  const est = await page.evaluate(() => window.T.estimate());
  check('storageEstimate gives usage and quota', est.usage > 0 && est.quota > est.usage && typeof est.persisted === 'boolean', JSON.stringify(est));
  const overQuota = urlPath(hugeModel(stories, est.quota - est.usage + 1024 ** 3));
  await expectError('a model larger than the storage quota', { model: overQuota, backend: 'cpu' }, 'QuotaExceededError');
  check('the model over quota was refused before its body was read (one request, nothing stored)', server.requests(overQuota) === 1 &&
    !(await page.evaluate(() => window.T.list())).some((m) => m.id.endsWith(overQuota)), JSON.stringify(server.requestLog(overQuota)));
  // The browser's own quota error while writing (quota lowered through the DevTools protocol,
  // which estimate() does not show) comes out as QuotaExceededError too.
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: est.usage + 4 * 1024 * 1024 });
  const q8Url = qwenUrl.replace('q4_0', 'q8_0');
  await expectError('a storage quota that fills up while downloading', { model: q8Url, backend: 'cpu' }, 'QuotaExceededError');
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
  await page.evaluate(([u]) => window.T.list().then((l) => Promise.all(l.filter((m) => m.id.endsWith(u)).map((m) => window.T.remove(m.id)))), [q8Url]);
  // stories260K's widths (FFN 172) do not fit the GPU kernels: a typed error that says so.
  const gpu = await load({ model: storiesUrl, backend: 'webgpu' });
  check(`backend 'webgpu' on a model the GPU kernels cannot run: ${gpu.error?.name}`, gpu.error?.typed &&
    (gpu.error.name === 'UnsupportedModelError' || gpu.error.name === 'UnsupportedBackendError') && /GPU|WebGPU/.test(gpu.error.message),
  JSON.stringify(gpu.error || gpu.info));
  if (!gpu.error) await unload();
  const auto = await load({ model: storiesUrl, backend: 'auto', threads: 1 });
  check(`backend 'auto' picks ${auto.info?.backend} and says why (${auto.info?.backendNote || 'WebGPU'})`, !auto.error &&
    (auto.info.backend === 'webgpu' || (auto.info.backend === 'cpu' && auto.info.backendNote.length > 0)), JSON.stringify(auto.error || auto.info));
  await unload();
} catch (e) {
  check('the browser test ran to the end', false, `${e.stack}\n${errors.join('\n')}`);
} finally {
  await browser.close();
  await server.close();
}
done();

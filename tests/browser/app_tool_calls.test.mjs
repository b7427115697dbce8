// Tool calls in the chat app's answers (issue 20; web/app/tool_calls.mjs, messages_view.mjs), in
// headless Chromium: a model's answer holding a Hermes/Qwen <tool_call> block, a Llama 3 JSON call,
// Mistral's [TOOL_CALLS] list, Phi-4-mini's functools list, or OpenAI's tool_calls renders as blocks
// (the function's name, its arguments as indented JSON, the text around a call kept in order);
// malformed markup stays text; a call whose name and arguments hold HTML stays inert, on a page
// WITHOUT the app's CSP (so anything that got through would run); a streamed answer ends as the
// stored one renders.
import { check, done } from '../lib.mjs';
import { serveApp, launch, collectErrors } from './app_helpers.mjs';

const WEATHER = { city: 'Paris', unit: 'celsius', days: [1, 2], nested: { deep: { ok: true } } };
const HERMES = `Let me look that up.\n<tool_call>\n${JSON.stringify({ name: 'get_weather', arguments: WEATHER })}\n</tool_call>\nI will report back.`;
const LLAMA3 = JSON.stringify({ name: 'search', parameters: { query: 'hearth llm', limit: 3 } });
const MISTRAL = `[TOOL_CALLS]${JSON.stringify([{ name: 'first', arguments: { a: 1 } }, { name: 'second', arguments: '{"b":[2]}' }])}`;
const PHI4 = `functools${JSON.stringify([{ name: 'phi_tool', arguments: { q: 'x' } }])}`;
const MALFORMED = [
  '<tool_call>{"name": "broken", "arguments": {oops}}</tool_call> after',
  '<tool_call>{"arguments": {"no": "name"}}</tool_call>',
  '{"name": "half", "parameters": {"x": 1}',
  '[TOOL_CALLS][{"name": "ok", "arguments": {}}, {"name": "", "arguments": {}}]',
  'import functools\nfunctools.partial(f)',
  // deeper than the engine's JSON parser goes (src/json.h, JSON_MAX_DEPTH 128)
  `<tool_call>{"name": "deep", "arguments": {"a": ${'['.repeat(200)}${']'.repeat(200)}}}</tool_call>`,
];
const HOSTILE = '<tool_call>{"name": "<img src=x onerror=\\"window.__pwned=\'name\'\\">", "arguments": ' +
  '{"html": "<script>window.__pwned=\'script\'</script><b>bold</b><img src=x onerror=window.__pwned=\'arg\'>", ' +
  '"link": "[x](javascript:window.__pwned=\'md\')"}}</tool_call>\n\n<img src=x onerror="window.__pwned=\'text\'"> around';
const OPENAI = { role: 'assistant', content: 'Calling it.', tool_calls: [{ id: 'call00000', type: 'function',
  function: { name: 'lookup', arguments: '{"id":42,"tags":["a","b"]}' } }] };

// In the page: each answer rendered by messages_view.mjs as the app does, described.
async function renderAll(msgs) {
  const { messageElement } = await import('/web/app/messages_view.mjs');
  const out = document.getElementById('out') || document.body.appendChild(Object.assign(document.createElement('div'), { id: 'out' }));
  return msgs.map((m) => {
    const box = messageElement(m);
    out.append(box);
    const bubble = box.querySelector('.bubble');
    return {
      blocks: [...bubble.querySelectorAll('[data-testid="tool-call"]')].map((b) => ({
        name: b.querySelector('.tool-name')?.textContent, args: b.querySelector('pre code')?.textContent,
        label: b.getAttribute('aria-label'), copy: !!b.querySelector('button.copy'),
      })),
      // The bubble's pieces in order: text of Markdown blocks and "[call NAME]" for blocks.
      order: [...bubble.children].map((c) => (c.dataset.testid === 'tool-call' ? `[call ${c.querySelector('.tool-name').textContent}]` : c.textContent.trim())),
      text: bubble.textContent,
      tags: [...new Set([...bubble.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()))].sort(),
    };
  });
}

const server = await serveApp();
const browser = await launch();
try {
  // The app itself (its CSP), answers shown through the conversation view.
  const page = await browser.newPage();
  const errors = collectErrors(page);
  await page.goto(`${server.url}/`);
  await page.waitForSelector('html[data-app-ready="1"]');
  const [hermes, llama, mistral, phi, openai, ...bad] = await page.evaluate(renderAll,
    [HERMES, LLAMA3, MISTRAL, PHI4].map((content) => ({ role: 'assistant', content }))
      .concat([OPENAI], MALFORMED.map((content) => ({ role: 'assistant', content }))));
  check('Hermes <tool_call>: one block, the function\'s name, its arguments indented, the text around it in order',
    hermes.blocks.length === 1 && hermes.blocks[0].name === 'get_weather' && hermes.blocks[0].args === JSON.stringify(WEATHER, null, 2) &&
    JSON.stringify(hermes.order) === JSON.stringify(['Let me look that up.', '[call get_weather]', 'I will report back.']) &&
    !hermes.text.includes('<tool_call>') && hermes.blocks[0].label === 'Tool call get_weather' && hermes.blocks[0].copy, JSON.stringify(hermes));
  check('Llama 3 JSON call ("parameters"): a block', llama.blocks.length === 1 && llama.blocks[0].name === 'search' &&
    JSON.parse(llama.blocks[0].args).query === 'hearth llm' && !llama.text.includes('"name"'), JSON.stringify(llama));
  check('Mistral [TOOL_CALLS] list: two blocks (arguments given as a JSON string too)', mistral.blocks.length === 2 &&
    mistral.blocks[1].name === 'second' && mistral.blocks[1].args === JSON.stringify({ b: [2] }, null, 2) && !mistral.text.includes('TOOL_CALLS'),
    JSON.stringify(mistral));
  check('Phi-4-mini functools list: a block', phi.blocks.length === 1 && phi.blocks[0].name === 'phi_tool' && !phi.text.includes('functools'), JSON.stringify(phi));
  check('OpenAI tool_calls on a message: a block after its text', openai.blocks.length === 1 && openai.blocks[0].name === 'lookup' &&
    JSON.stringify(openai.order) === JSON.stringify(['Calling it.', '[call lookup]']), JSON.stringify(openai));
  bad.forEach((b, i) => check(`malformed markup stays text (${JSON.stringify(MALFORMED[i].slice(0, 40))})`,
    b.blocks.length === 0 && b.text.includes(MALFORMED[i].split('\n')[0].replace(/\s+/g, ' ').slice(0, 12)), JSON.stringify(b)));

  // Streamed: the answer's text grows in pieces; the view ends as the stored answer renders.
  const streamed = await page.evaluate(async (text) => {
    const { streamingMessage } = await import('/web/app/messages_view.mjs');
    const v = streamingMessage();
    document.body.append(v.element);
    for (let i = 1; i <= text.length; i += 7) { v.update(text.slice(0, i)); await new Promise(requestAnimationFrame); }
    v.update(text);
    v.finish();
    const blocks = [...v.element.querySelectorAll('[data-testid="tool-call"]')];
    return { n: blocks.length, name: blocks[0]?.querySelector('.tool-name').textContent, text: v.element.querySelector('.answer').textContent };
  }, HERMES);
  check('a streamed answer with a Hermes call ends as one block with the text around it', streamed.n === 1 && streamed.name === 'get_weather' &&
    streamed.text.startsWith('Let me look that up.') && streamed.text.trim().endsWith('I will report back.'), JSON.stringify(streamed));
  check('no errors in the app page', errors.length === 0, errors.join('\n'));
  await page.close();

  // Hostile calls on a plain page (no CSP to hide a failure): names and arguments are text.
  const plain = await browser.newPage();
  await plain.goto(`${server.url}/web/app/presets.json`);
  await plain.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
  await plain.evaluate(() => { window.__pwned = null; });
  const [hostile] = await plain.evaluate(renderAll, [{ role: 'assistant', content: HOSTILE },
    { role: 'assistant', content: '', tool_calls: [{ function: { name: '<svg onload="window.__pwned=\'oa\'">', arguments: '<img src=x onerror=window.__pwned=\'oa-arg\'>' } }] }]);
  const after = await plain.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 300));
    for (const e of document.querySelectorAll('#out *')) for (const t of ['mouseover', 'focus', 'click']) if (e.tagName !== 'A') e.dispatchEvent(new Event(t, { bubbles: true }));
    await new Promise((r) => setTimeout(r, 200));
    const blocks = [...document.querySelectorAll('#out [data-testid="tool-call"]')];
    return { pwned: window.__pwned, blocks: blocks.map((b) => b.querySelector('.tool-name').textContent),
      tags: [...new Set([...document.querySelectorAll('#out *')].map((e) => e.tagName.toLowerCase()))].sort(),
      onAttrs: [...document.querySelectorAll('#out *')].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => /^on/i.test(n)) };
  });
  check('hostile tool calls: nothing ran', after.pwned === null, String(after.pwned));
  check('hostile tool calls: the names show as text in the blocks', after.blocks.length === 2 &&
    after.blocks[0] === '<img src=x onerror="window.__pwned=\'name\'">' && after.blocks[1].startsWith('<svg'), JSON.stringify(after.blocks));
  check('hostile tool calls: no img, script, svg, b element, no on* attribute', !after.tags.some((t) => ['img', 'script', 'svg', 'b', 'iframe'].includes(t)) &&
    after.onAttrs.length === 0, JSON.stringify(after));
  check('hostile: the text around the call went through the sanitizer (raw HTML shown as text)', hostile.text.includes('<img src=x onerror') &&
    hostile.text.includes('around'), hostile.text);
  await plain.close();
} catch (e) {
  check('app_tool_calls test ran to its end', false, e.stack);
} finally {
  await browser.close();
  await server.close();
  done();
}

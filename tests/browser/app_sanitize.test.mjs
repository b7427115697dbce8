// The chat app's Markdown renderer (web/app/markdown.mjs: marked + DOMPurify)
// on hostile model output, in headless Chromium, on a page WITHOUT the app's
// Content-Security-Policy, so anything the sanitizer let through would run:
// script tags, javascript: links, event-handler attributes, SVG/MathML
// payloads, mutation-XSS shapes, CSS and frames. Also checks that ordinary
// Markdown (code blocks with language and copy button, tables, lists) renders.
import { check, done } from '../lib.mjs';
import { serveApp, launch } from './app_helpers.mjs';

const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned=\'img\'">',
  '[click me](javascript:window.__pwned=\'link\')',
  '[click me](JaVaScRiPt&#58;window.__pwned=\'entity-link\')',
  '<a href="javascript:window.__pwned=\'a\'">a</a>',
  '![alt](javascript:window.__pwned=\'image\')',
  '<svg onload="window.__pwned=\'svg\'"><circle r=5 /></svg>',
  '<svg><script>window.__pwned="svg-script"</script></svg>',
  '<svg><a xlink:href="javascript:window.__pwned=\'svg-a\'"><text y=20>x</text></a></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned=\'mxss\'">',
  '<details open ontoggle="window.__pwned=\'details\'">d</details>',
  '<iframe srcdoc="<script>parent.__pwned=\'iframe\'</script>"></iframe>',
  '<object data="javascript:window.__pwned=\'object\'"></object>',
  '<form action="javascript:window.__pwned=\'form\'"><button>go</button></form>',
  '<style>body{background:url(javascript:window.__pwned=1)}</style>',
  '<div style="background-image:url(x)" onmouseover="window.__pwned=\'hover\'">hover</div>',
  '[data](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0xPC9zY3JpcHQ+)',
  '```"><img src=x onerror="window.__pwned=\'lang\'">\ncode\n```',
  '<noscript><p title="</noscript><img src=x onerror=window.__pwned=\'noscript\'>">',
  '<input autofocus onfocus="window.__pwned=\'focus\'">',
  '<body onload="window.__pwned=\'body\'">',
  '<a href="https://example.com" onclick="window.__pwned=\'click\'">ok link</a>',
  '| a | b |\n|---|---|\n| <img src=x onerror=window.__pwned=\'cell\'> | [x](javascript:window.__pwned=\'celllink\') |',
].join('\n\n');

const server = await serveApp();
const browser = await launch();
try {
  const page = await browser.newPage();
  // Same origin as the app (modules import), but a plain document: no CSP to hide a sanitizer failure.
  await page.goto(`${server.url}/web/app/presets.json`);
  await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
  const result = await page.evaluate(async (md) => {
    window.__pwned = null;
    const { renderMarkdown } = await import('/web/app/markdown.mjs');
    const out = document.getElementById('out');
    out.append(renderMarkdown(md));
    // Give load/error/toggle/focus handlers their chance, then poke every element a person could touch.
    await new Promise((r) => setTimeout(r, 300));
    for (const e of out.querySelectorAll('*')) {
      for (const t of ['mouseover', 'focus', 'click']) {
        if (e.tagName === 'A') continue; // following a link would navigate away; its href is checked below
        e.dispatchEvent(new Event(t, { bubbles: true }));
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    const all = [...out.querySelectorAll('*')];
    return {
      pwned: window.__pwned,
      tags: [...new Set(all.map((e) => e.tagName.toLowerCase()))].sort(),
      handlers: all.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName}.${a.name}`)),
      badUrls: all.flatMap((e) => ['href', 'src', 'action', 'data', 'xlink:href', 'formaction']
        .map((n) => e.getAttribute(n)).filter((v) => v && !/^(https?:|mailto:|#)/i.test(v.trim()))),
      styles: all.filter((e) => e.hasAttribute('style')).length,
      text: out.textContent,
    };
  }, HOSTILE);
  check('hostile Markdown executes nothing (no CSP on this page)', result.pwned === null, `ran: ${result.pwned}`);
  check('no script, svg, math, iframe, object, form, style, img, input or body element survives',
    !result.tags.some((t) => ['script', 'svg', 'math', 'iframe', 'object', 'form', 'style', 'img', 'input', 'body', 'details', 'noscript', 'mglyph'].includes(t)),
    result.tags.join(','));
  check('no event-handler attribute survives', result.handlers.length === 0, result.handlers.join(','));
  check('no javascript:/data: URL survives', result.badUrls.length === 0, result.badUrls.join(' | '));
  check('no inline style survives', result.styles === 0, `${result.styles} elements with style`);
  check('raw HTML is shown as text, not dropped silently', result.text.includes('<script>') && result.text.includes('onerror'), result.text.slice(0, 200));

  // Ordinary Markdown renders with its structure.
  const ok = await page.evaluate(async () => {
    const { renderMarkdown } = await import('/web/app/markdown.mjs');
    const out = document.getElementById('out');
    out.replaceChildren(renderMarkdown('# Title\n\n- one\n- two\n\n1. first\n2. second\n\n| x | y |\n|---|--:|\n| 1 | 2 |\n\n```python\nprint("<b>hi</b>")\n```\n\nSee [docs](https://example.com/a?b=1) and `inline`.'));
    const code = out.querySelector('.code-block pre code');
    const link = out.querySelector('a');
    return {
      h1: out.querySelector('h1')?.textContent, ul: out.querySelectorAll('ul > li').length, ol: out.querySelectorAll('ol > li').length,
      table: out.querySelectorAll('table td').length, th: out.querySelectorAll('table th').length,
      lang: out.querySelector('.code-head span')?.textContent, copy: out.querySelector('.code-head button.copy')?.textContent,
      code: code?.textContent, codeClass: code?.className,
      link: link && [link.getAttribute('href'), link.getAttribute('target'), link.getAttribute('rel')],
      inline: out.querySelector('p code')?.textContent,
    };
  });
  check('headings and lists render', ok.h1 === 'Title' && ok.ul === 2 && ok.ol === 2, JSON.stringify(ok));
  check('GFM tables render', ok.table === 2 && ok.th === 2, JSON.stringify(ok));
  check('code blocks show their language and a copy button, code kept as text',
    ok.lang === 'python' && ok.copy === 'Copy' && ok.code === 'print("<b>hi</b>")\n' && ok.codeClass === 'language-python', JSON.stringify(ok));
  check('links open in a new tab without opener', ok.link && ok.link[0] === 'https://example.com/a?b=1' && ok.link[1] === '_blank' && /noopener/.test(ok.link[2]), JSON.stringify(ok.link));
  check('inline code renders', ok.inline === 'inline', JSON.stringify(ok));

  // The same text as a stored answer in the app itself (its CSP on): nothing runs, nothing is even
  // attempted (a CSP violation would mean the sanitizer let a script or handler through).
  const app = await browser.newPage();
  await app.goto(`${server.url}/web/app/`);
  await app.waitForSelector('html[data-app-ready="1"]');
  await app.evaluate(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await app.evaluate(async (md) => {
    const { convs } = window.hearthApp;
    const c = convs.newConversation();
    c.title = 'hostile';
    c.messages.push({ role: 'user', content: '<img src=x onerror="window.__pwned=1">' }, { role: 'assistant', content: md });
    await convs.saveConversation(c);
    await window.hearthApp.renderConvList();
  }, HOSTILE);
  await app.click('[data-testid="conversation"] >> text=hostile');
  await app.waitForSelector('[data-role="assistant"] .bubble table');
  await app.waitForTimeout(300);
  const inApp = await app.evaluate(() => ({
    pwned: window.__pwned ?? null, violations: window.__violations,
    scripts: document.querySelectorAll('#messages script, #messages svg, #messages iframe, #messages img').length,
    handlers: [...document.querySelectorAll('#messages *')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
    userText: document.querySelector('[data-role="user"] .bubble').textContent,
  }));
  check('in the app: hostile answers run nothing and trigger no CSP violation', inApp.pwned === null && inApp.violations.length === 0 &&
    inApp.scripts === 0 && inApp.handlers === 0, JSON.stringify(inApp));
  check('in the app: user text is shown as typed, never as HTML', inApp.userText === '<img src=x onerror="window.__pwned=1">', inApp.userText);
} finally {
  await browser.close();
  await server.close();
}
done();

// Model output is untrusted: it becomes Markdown (marked, GFM tables and
// lists), then passes DOMPurify with a short allow-list, and only the
// sanitized DOM fragment is ever put in the page (no innerHTML of our own).
// Raw HTML in the text is shown as text, images become plain links (nothing
// is fetched from a host the model names), links only keep http(s)/mailto.
import { Marked } from './vendor/marked.esm.js';
import DOMPurify from './vendor/purify.es.mjs';

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text }) { return escapeHtml(text); },
    image({ href, text }) { return `<a href="${escapeHtml(href || '')}">${escapeHtml(text || href || 'image')}</a>`; },
  },
});

const PURIFY = {
  ALLOWED_TAGS: ['p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
    'em', 'strong', 'del', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span'],
  ALLOWED_ATTR: ['href', 'title', 'class', 'start', 'align'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
  RETURN_DOM_FRAGMENT: true,
};

// Links leave the app in a new tab without handing it a reference.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  // Only the language-* class marked puts on code survives.
  if (node.hasAttribute?.('class')) {
    const keep = node.getAttribute('class').split(/\s+/).filter((c) => /^language-[\w+#.-]{1,32}$/.test(c));
    if (keep.length) node.setAttribute('class', keep.join(' '));
    else node.removeAttribute('class');
  }
});

// Sanitized fragment of the Markdown text, code blocks with a header
// (language, copy button) built with DOM calls.
export function renderMarkdown(text) {
  const frag = DOMPurify.sanitize(marked.parse(text, { async: false }), PURIFY);
  for (const code of frag.querySelectorAll('pre > code')) decorateCode(code);
  return frag;
}

function decorateCode(code) {
  const pre = code.parentElement;
  const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1] || 'text';
  const label = document.createElement('span');
  label.textContent = lang;
  const parent = pre.parentNode, next = pre.nextSibling;
  parent.insertBefore(codeBox(pre, [label], `Copy ${lang} code`), next);
}

// A box around pre (its code): a head with the label's nodes and a Copy button (enableCopyButtons), built
// with DOM calls only. copyName: the button's accessible name.
export function codeBox(pre, label, copyName) {
  const box = document.createElement('div');
  box.className = 'code-block';
  const head = document.createElement('div');
  head.className = 'code-head';
  const title = document.createElement('span');
  title.append(...label);
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'copy';
  copy.textContent = 'Copy';
  copy.setAttribute('aria-label', copyName);
  head.append(title, copy);
  box.append(head, pre);
  return box;
}

// One delegated listener per container handles every copy button.
export function enableCopyButtons(container) {
  container.addEventListener('click', async (ev) => {
    const btn = ev.target.closest?.('button.copy');
    if (!btn) return;
    const code = btn.closest('.code-block')?.querySelector('code');
    if (!code) return;
    try {
      await navigator.clipboard.writeText(code.textContent);
      btn.textContent = 'Copied';
    } catch {
      btn.textContent = 'Copy failed';
    }
    setTimeout(() => { btn.textContent = 'Copy'; }, 1500);
  });
}

// The first parse and sanitize run cold (regular expressions compile, code warms up), and the first
// text in a script the page has not shown yet makes the browser look up fallback fonts: together tens
// of milliseconds. Done once while the page is idle, off screen, so the first streamed answer does not jank.
const SCRIPTS_SAMPLE = 'Aa Ωω Жж אב عر हि ไทย 中文 日本語 한국어 ✓ 😀';
export function warmUp() {
  const run = () => {
    const box = document.createElement('div');
    box.className = 'bubble warm-up';
    box.setAttribute('aria-hidden', 'true');
    box.append(renderMarkdown(`# a\n\n*b* **c** \`d\` [e](https://example.com) ${SCRIPTS_SAMPLE}\n\n- f\n1. g\n\n| h | i |\n|---|---|\n| j | k |\n\n\`\`\`js\nl\n\`\`\`\n\n> m <b>n</b>`));
    document.body.append(box);
    void box.offsetHeight; // layout now, with the fonts
    box.remove();
  };
  if ('requestIdleCallback' in window) requestIdleCallback(run, { timeout: 2000 }); else setTimeout(run, 200);
}

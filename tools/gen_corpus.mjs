#!/usr/bin/env node
// Deterministic multilingual tokenizer corpus (about 1.2 MB of UTF-8, one
// test case per line, no "\n" inside a line): English prose, code in several
// languages, Markdown tables, numbers and dates, emoji (ZWJ sequences, flags,
// skin tones, keycaps), Chinese, Japanese, Korean, Arabic, Hebrew, Hindi,
// Russian, combining marks (decomposed and precomposed), every kind of
// whitespace run, and control characters. Own PRNG, no clock: the same
// arguments always give the same bytes.
//
//   node tools/gen_corpus.mjs [--out FILE] [--bytes N] [--seed S]
//
// Without --out the text goes to stdout. Used by tests/e2e/tokenize_hf.test.mjs
// and bench/tokenize_bench.mjs.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export function makeRng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  const int = (n) => next() % n;
  const pick = (a) => a[int(a.length)];
  const cp = (lo, hi) => String.fromCodePoint(lo + int(hi - lo + 1));
  return { next, int, pick, cp };
}

const WORDS = ('the of and to in is was for on that with as by at from it an be this which or are have ' +
  'had not but were his her they their one all there been has when who more will would what about ' +
  'model token engine memory browser private machine language small quick brown fox jumps over lazy dog ' +
  'however although because therefore meanwhile nevertheless running jumped happily carefully ' +
  "don't can't it's we're they've I'm you'll she'd O'Brien naïve café résumé coöperate façade " +
  'GPU CPU WebGPU JSON HTTP URL API Llama Qwen Gemma hearth tokenizer SentencePiece BPE UTF-8').split(' ');
const PUNCT = ['.', ',', ';', ':', '!', '?', '...', ' -', ' —', ' (', ')', '"', "'", '…'];

const CODE = [
  'int main(int argc, char **argv) {', '    for (size_t i = 0; i < n; i++) sum += a[i] * b[i];',
  '\treturn x >= 0 ? x : -x;', '#include <stdio.h>', '    if (!p) { free(buf); return NULL; }',
  'def fib(n: int) -> int:', '    return n if n < 2 else fib(n - 1) + fib(n - 2)',
  "    print(f'{name!r:>10} = {value:.3f}')", 'class Foo(Bar):  # comment', '        self.x, self.y = y, x',
  'const add = (a, b) => a + b;', 'export async function load(url) { return (await fetch(url)).json(); }',
  '  let s = `template ${x + 1} literal`;', "  console.log('%s: %d', key, map.get(key) ?? 0);",
  'fn main() -> Result<(), Box<dyn Error>> {', '    let v: Vec<u32> = (0..10).map(|x| x * x).collect();',
  'impl<T: Clone> Iterator for It<T> { type Item = T; }', 'func (s *Server) Handle(w http.ResponseWriter, r *http.Request) {',
  '\tif err != nil {\n', '\t\treturn fmt.Errorf("read %q: %w", name, err)', 'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;',
  '<div class="row"><span id=\'x\'>&amp;&lt;&gt;</span></div>', '$ git commit -m "fix: off-by-one" && make -j2 test',
  'x := map[string]int{"a": 1, "b": 2}', 'public static void main(String[] args) throws IOException {',
  '    std::vector<std::pair<int, float>> v{{1, 2.5f}};', 'a<<=2; b>>>=1; c&&=d; e||=f; g??=h; i**=2;',
  '{"key": [1, 2.5e-3, -7, true, null], "nested": {"k": "v\\u00e9"}}', '    0x7fffffff, 0b1010, 1_000_000, 3.14159e+10,',
  '    }', '};', '//', '/* */', '#!/usr/bin/env bash', 'sed -n \'1,20p\' file | awk \'{print $2}\' >> out.txt',
];
const SCRIPTS = {
  zh: ['我们在自己的机器上运行小型语言模型。', '今天天气很好，我们去公园散步吧！', '人工智能正在改变世界，但隐私同样重要。',
    '这是一个测试句子，包含标点符号：“引号”、（括号）和《书名号》。', '北京、上海、广州和深圳是中国的大城市。'],
  ja: ['私は自分のコンピューターで言語モデルを動かします。', 'きょうはいいてんきですね。', 'カタカナとひらがなと漢字を混ぜた文章です。',
    '東京タワーは３３３メートルです。', 'ｶﾀｶﾅの半角文字もあります。'],
  ko: ['안녕하세요, 만나서 반갑습니다.', '작은 언어 모델을 브라우저에서 실행합니다.', '한국어 문장에는 띄어쓰기가 있습니다.',
    '오늘은 2024년 3월 15일 금요일입니다.'],
  ar: ['مرحبا بالعالم، هذا نص عربي للاختبار.', 'النماذج اللغوية الصغيرة تعمل على جهازك الخاص.', 'الأرقام: ١٢٣٤٥٦٧٨٩٠ و 1234.',
    'كَتَبَ الطَّالِبُ الدَّرْسَ.'],
  he: ['שלום עולם, זהו טקסט בעברית.', 'מודלים קטנים רצים על המחשב שלך.', 'בְּרֵאשִׁית בָּרָא אֱלֹהִים'],
  hi: ['नमस्ते दुनिया, यह एक परीक्षण वाक्य है।', 'छोटे भाषा मॉडल आपके अपने कंप्यूटर पर चलते हैं।', 'क्षत्रिय, ज्ञान, श्री, द्वार।'],
  ru: ['Привет, мир! Это тестовое предложение.', 'Небольшие языковые модели работают на вашем компьютере.',
    'Съешь же ещё этих мягких французских булок, да выпей чаю.', 'Ёжик в тумане — 1975 г.'],
  other: ['Ελληνικά: Γειά σου κόσμε.', 'ไทย: สวัสดีชาวโลก', 'Tiếng Việt: Xin chào thế giới, ngày mồng một.',
    'ქართული ენა', 'Հայերեն լեզու', 'ᐃᓄᒃᑎᑐᑦ', 'Ꭰ Ꭱ Ꭲ', 'Türkçe: İstanbul, ıĞüŞ', 'Deutsch: Straße, Größe, ß ẞ'],
};
const RANGES = {
  zh: [0x4e00, 0x9fff], ja: [0x3041, 0x30ff], ko: [0xac00, 0xd7a3], ar: [0x0621, 0x064a], he: [0x05d0, 0x05ea],
  hi: [0x0905, 0x0939], ru: [0x0410, 0x044f], ext: [0x20000, 0x2a6df],
};
const EMOJI = ['😀', '😂', '🥲', '❤️', '👍', '🎉', '🚀', '🔥', '✨', '🙏', '🤖', '🐍', '🦀', '☕', '⭐', '✅', '❌', '⚠️', '💡', '📦',
  '👨‍👩‍👧‍👦', '👩‍💻', '🧑‍🚀', '🏳️‍🌈', '🏴‍☠️', '❤️‍🔥', '👁️‍🗨️', '🧔🏽‍♂️', '1️⃣', '#️⃣', '*️⃣', '©️', '™️',
  '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🇺🇸', '🇯🇵', '🇩🇪', '🇧🇷', '🇪🇺', '🇺🇳'];
const SKIN = ['\u{1f3fb}', '\u{1f3fc}', '\u{1f3fd}', '\u{1f3fe}', '\u{1f3ff}'];
const SKIN_BASE = ['👋', '👍', '🙌', '👏', '🤝', '🧑', '👩', '👨', '🧒', '💪'];
const WS = [' ', '  ', '   ', '\t', '\t\t', '\r', '\r\r', '\v', '\f', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002',
  '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f',
  '\u3000', '\u200b', '\u200c', '\u200d', '\ufeff', '\u180e'];

function generators(r) {
  const word = () => r.pick(WORDS);
  const sentence = () => {
    const n = 4 + r.int(14);
    let s = word();
    s = s[0].toUpperCase() + s.slice(1);
    for (let i = 1; i < n; i++) s += (r.int(9) === 0 ? r.pick(PUNCT) : '') + ' ' + word();
    return s + r.pick(['.', '!', '?', '.', '.']);
  };
  const num = () => {
    switch (r.int(12)) {
      case 0: return String(r.int(10));
      case 1: return String(r.next());
      case 2: return (r.next() / 997).toFixed(r.int(6));
      case 3: return `${1900 + r.int(200)}-${String(1 + r.int(12)).padStart(2, '0')}-${String(1 + r.int(28)).padStart(2, '0')}`;
      case 4: return `${1 + r.int(12)}/${1 + r.int(28)}/${r.int(100)}`;
      case 5: return `${r.int(24)}:${String(r.int(60)).padStart(2, '0')}:${String(r.int(60)).padStart(2, '0')}`;
      case 6: return String(r.next() * 1000).replace(/\B(?=(\d{3})+$)/g, ',');
      case 7: return `$${(r.int(100000) / 100).toFixed(2)}`;
      case 8: return `${r.int(100)}%`;
      case 9: return `+1 (${100 + r.int(900)}) ${100 + r.int(900)}-${1000 + r.int(9000)}`;
      case 10: return `-${r.int(1000)}.${r.int(1000)}e${r.int(40) - 20}`;
      default: return String(r.next()).repeat(1 + r.int(4));
    }
  };
  const rand = (key, n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += r.cp(...RANGES[key]);
    return s;
  };
  return {
    prose: () => {
      let s = sentence();
      while (r.int(3)) s += ' ' + sentence();
      return s;
    },
    code: () => {
      const ind = r.pick(['', '', '  ', '    ', '\t', '\t\t', '        ']);
      return ind + r.pick(CODE).replace('\n', '');
    },
    table: () => {
      const cols = 2 + r.int(4);
      const cell = () => r.pick([word(), num(), '', ' ', `**${word()}**`, `\`${word()}\``, r.pick(EMOJI), r.pick(SCRIPTS.zh).slice(0, 4)]);
      const row = (f) => '|' + Array.from({ length: cols }, f).join('|') + '|';
      switch (r.int(3)) {
        case 0: return row(() => ' ' + word() + ' ');
        case 1: return row(() => r.pick([' --- ', ':---', '---:', ':-:', '-----------']));
        default: return row(() => ' ' + cell() + ' '.repeat(r.int(4)));
      }
    },
    markdown: () => r.pick(['# ', '## ', '### ', '- ', '* ', '1. ', '> ', '    ', '```', '---', '- [ ] ', '- [x] ']) +
      sentence() + r.pick(['', ' [link](https://example.com/a?b=c&d=e#f)', ' ![img](x.png)', ' `code`', ' **bold** _it_']),
    numbers: () => Array.from({ length: 1 + r.int(8) }, num).join(r.pick([' ', ', ', '; ', ' - ', '', '\t'])),
    emoji: () => {
      let s = '';
      const n = 1 + r.int(10);
      for (let i = 0; i < n; i++) {
        const k = r.int(5);
        if (k === 0) s += r.pick(SKIN_BASE) + r.pick(SKIN);
        else if (k === 1) s += String.fromCodePoint(0x1f1e6 + r.int(26), 0x1f1e6 + r.int(26));
        else if (k === 2) s += r.cp(0x1f300, 0x1faff);
        else s += r.pick(EMOJI);
        if (r.int(3) === 0) s += r.pick([' ', '', ' ' + word() + ' ', '\u200d', '\ufe0f', '\ufe0e']);
      }
      return s;
    },
    scripts: () => {
      const key = r.pick(['zh', 'ja', 'ko', 'ar', 'he', 'hi', 'ru', 'other']);
      let s = r.pick(SCRIPTS[key]);
      if (r.int(2)) s += ' ' + r.pick(SCRIPTS[key]);
      if (r.int(3) === 0 && RANGES[key]) s += (key === 'zh' || key === 'ja' ? '' : ' ') + rand(key, 1 + r.int(12));
      if (r.int(4) === 0) s += ' ' + sentence();
      if (r.int(6) === 0) s = num() + ' ' + s;
      return s;
    },
    random_script: () => {
      const keys = Object.keys(RANGES);
      let s = '';
      const n = 1 + r.int(6);
      for (let i = 0; i < n; i++) s += rand(r.pick(keys), 1 + r.int(8)) + r.pick([' ', '', ', ', '。', '.']);
      return s;
    },
    combining: () => {
      let s = '';
      const n = 1 + r.int(12);
      for (let i = 0; i < n; i++) {
        const k = r.int(6);
        if (k === 0) s += r.pick(['e\u0301', 'a\u0300', 'o\u0308', 'n\u0303', 'c\u0327', 'u\u030a', 'A\u030a', 'i\u0302', 'E\u0301\u0301']);
        else if (k === 1) s += r.pick(['é', 'à', 'ö', 'ñ', 'ç', 'ů', 'Å', 'î', 'ǖ', 'ẫ', 'Ω', 'Å', 'K', '가', '각']);
        else if (k === 2) s += r.cp(0x41, 0x7a) + r.cp(0x300, 0x36f) + (r.int(2) ? r.cp(0x300, 0x36f) : '');
        else if (k === 3) s += '\u1100\u1161' + (r.int(2) ? '\u11a8' : ''); // conjoining jamo
        else if (k === 4) s += r.pick(['\u0915\u093c', '\u05d1\u05bc', '\u0627\u0653', 'ẛ\u0323', 'q\u0307\u0323', '\u0301', 'x\u20dd']);
        else s += r.int(2) ? ' ' + word() : ' ';
      }
      return s;
    },
    whitespace: () => {
      let s = '';
      const n = 1 + r.int(8);
      for (let i = 0; i < n; i++) {
        let w = '';
        const m = 1 + r.int(4);
        for (let j = 0; j < m; j++) w += r.pick(WS);
        s += r.int(3) ? w + r.pick([word(), num(), '', r.pick(EMOJI), r.pick(SCRIPTS.zh).slice(0, 3), '.']) : w;
      }
      return s;
    },
    control: () => {
      let s = '';
      const n = 1 + r.int(8);
      for (let i = 0; i < n; i++) {
        const k = r.int(4);
        if (k === 0) s += String.fromCharCode(r.int(32) === 10 ? 9 : r.int(32));
        else if (k === 1) s += String.fromCharCode(0x7f + r.int(33));
        else if (k === 2) s += r.pick(['\u00ad', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\ufffd', '\ufffc', '\ue000', '\u{f0000}', '\u{e0001}', '\u{e0041}']);
        else s += r.pick([word(), ' ', num(), '']);
      }
      return s.replace(/\n/g, ' ');
    },
    mixed: () => {
      const g = generators(r);
      return [g.prose, g.code, g.emoji, g.scripts, g.whitespace, g.combining, g.numbers]
        .filter(() => r.int(2)).map((f) => f()).join(r.pick([' ', '', '\t', '  ']));
    },
  };
}

// Returns the corpus text (lines joined with "\n", ending in "\n").
export function generateCorpus({ bytes = 1200000, seed = 20240601 } = {}) {
  const r = makeRng(seed);
  const g = generators(r);
  const kinds = Object.keys(g);
  const lines = [];
  let size = 0;
  // a fixed head: one line of each kind first, then weighted random picks
  for (const k of kinds) lines.push(g[k]());
  while (size < bytes) {
    const k = r.int(10) < 3 ? r.pick(['prose', 'code', 'scripts']) : r.pick(kinds);
    let line = g[k]().replace(/\n/g, ' ');
    if (r.int(20) === 0) line = ' ' + line;
    if (r.int(20) === 0) line += r.pick([' ', '  ', '\t', '\r']);
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return lines.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = {};
  let out = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = args[++i];
    else if (args[i] === '--bytes') opt.bytes = Number(args[++i]);
    else if (args[i] === '--seed') opt.seed = Number(args[++i]);
    else {
      console.error(`usage: node tools/gen_corpus.mjs [--out FILE] [--bytes N] [--seed S]`);
      process.exit(2);
    }
  }
  const text = generateCorpus(opt);
  if (out) fs.writeFileSync(out, text);
  else process.stdout.write(text);
}

// Step-wise answers on the WebGPU backend, in the shape the engine worker
// asks of every backend (web/hearth.mjs's Generation): beginChat /
// beginCompletion return { next() -> Promise<{text, done}>, abort(), done,
// result }. The GPU host generates on its own, awaiting each readback; this
// bridges its token callback to a pull, cuts stop strings (holding back text
// that may still become one, as src/chat.c does), and remembers what the KV
// cache holds so the next request evaluates only the tokens that changed.
// One generation runs at a time; a new one starts when the last has ended.

const STOP_OF = { length: 'length', eog: 'eog', context: 'context', callback: 'interrupted' };

export class GpuAnswers {
  #engine;            // { promptTokens, chatPromptTokens, generate, contextSize }
  #cached = [];       // the tokens whose keys and values are in the GPU's KV cache
  #running = Promise.resolve();

  constructor(engine) { this.#engine = engine; }

  beginChat(messages, opts = {}) { return this.#begin(this.#engine.chatPromptTokens(messages), opts); }
  beginCompletion(prompt, opts = {}) { return this.#begin(this.#engine.promptTokens(String(prompt)), opts); }

  #begin(tokens, opts) {
    const ctx = this.#engine.contextSize;
    if (tokens.length >= ctx) {
      throw new Error(`the conversation needs ${tokens.length} tokens, more than the context of ${ctx} leaves; ` +
        'shorten it or raise contextSize');
    }
    const g = new GpuGeneration(tokens, opts);
    const start = () => {
      let common = 0;
      while (common < tokens.length - 1 && common < this.#cached.length && tokens[common] === this.#cached[common]) common++;
      this.#cached = this.#cached.slice(0, common); // the rest is rewritten now
      return g.run(this.#engine, common).then((r) => {
        this.#cached = r ? tokens.concat(r.tokens).slice(0, r.stats.cache_tokens) : [];
      });
    };
    this.#running = this.#running.then(start, start);
    return g;
  }
}

class GpuGeneration {
  done = false;
  #tokens; #opts; #stops;
  #chunks = []; #ids = 0; #text = ''; #emitted = 0;
  #finished = false; #error = null; #gen = null; #wake = null;
  #stopRequested = false; #stopped = false; #aborted = false; #result = null;

  constructor(tokens, opts) {
    this.#tokens = tokens;
    this.#opts = opts;
    this.#stops = (opts.stop ?? []).filter((s) => typeof s === 'string' && s.length > 0);
  }

  // Runs the GPU generation; resolves with its result (null when it failed).
  async run(engine, nPast) {
    const o = this.#opts;
    if (this.#stopRequested) { this.#end(); return null; } // aborted before it started
    try {
      this.#gen = await engine.generate(this.#tokens, {
        maxTokens: o.maxTokens ?? 512, temperature: o.temperature ?? 0.8, topK: o.topK ?? 40, topP: o.topP ?? 0.95,
        minP: o.minP ?? 0.05, repeatPenalty: o.repeatPenalty ?? 1, seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
        nPast,
        onToken: (id, text) => {
          if (this.#stopRequested) return false;
          this.#ids++;
          this.#chunks.push(text);
          this.#wake?.();
          return true;
        },
      });
      // The text the end flushed (an incomplete UTF-8 sequence), beyond what the tokens gave.
      const streamed = this.#text.length + this.#chunks.join('').length;
      if (!this.#stopped && this.#gen.text.length > streamed) this.#chunks.push(this.#gen.text.slice(streamed));
      return this.#gen;
    } catch (e) {
      this.#error = e;
      return null;
    } finally { this.#end(); }
  }

  #end() {
    this.#finished = true;
    this.#wake?.();
  }

  async next() {
    if (this.done) return { text: '', done: true };
    while (!this.#chunks.length && !this.#finished) await new Promise((r) => { this.#wake = r; });
    this.#wake = null;
    if (this.#error) { this.done = true; throw this.#error; }
    this.#text += this.#chunks.splice(0).join('');
    let final = this.#finished;
    const safe = this.#releasable(final);
    if (this.#stopped && !final) {
      // One more token may be on its way: let it end, so the result has the engine's numbers.
      this.#stopRequested = true;
      while (!this.#finished) await new Promise((r) => { this.#wake = r; });
      final = true;
    }
    const text = this.#text.slice(this.#emitted, final ? this.#text.length : safe);
    this.#emitted += text.length;
    if (final) this.#finish();
    return { text, done: final };
  }

  abort() {
    if (this.done) return;
    this.#stopRequested = true;
    this.#aborted = true;
    this.#text = this.#text.slice(0, this.#emitted); // what was shown is the answer
    this.#finish();
  }

  // How much of the text can be shown: all but a tail a stop string may still start with;
  // a stop string found cuts the text before it.
  #releasable(final) {
    let safe = this.#text.length;
    for (const s of this.#stops) {
      const hit = this.#text.indexOf(s, Math.max(0, this.#emitted - s.length));
      if (hit >= 0) {
        this.#text = this.#text.slice(0, hit);
        this.#stopped = true;
        safe = Math.min(safe, hit);
        continue;
      }
      if (final) continue;
      for (let k = s.length - 1; k > 0; k--) {
        if (this.#text.endsWith(s.slice(0, k))) { safe = Math.min(safe, this.#text.length - k); break; }
      }
    }
    return safe;
  }

  #finish() {
    this.done = true;
    const r = this.#gen, st = r?.stats;
    const stop = this.#aborted ? 'interrupted' : this.#stopped ? 'stop' : STOP_OF[r?.stop] ?? 'length';
    const prompt = this.#tokens.length, completion = st?.gen_tokens ?? this.#ids;
    this.#result = {
      text: this.#text,
      stop,
      finishReason: stop === 'length' || stop === 'context' ? 'length' : 'stop',
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      timings: {
        reused_tokens: st?.reused_tokens ?? 0, evaluated_tokens: prompt - (st?.reused_tokens ?? 0), dropped_messages: 0,
        prefill_ms: st?.prefill_ms ?? 0, decode_ms: st?.decode_ms ?? 0, ttft_ms: st?.ttft_ms ?? 0,
      },
    };
  }

  get result() { return this.#result; }
}

// Node: the installed package answers one chat turn (the same worker through worker_threads).
//   node answer.mjs MODEL.gguf PROMPT MAX_TOKENS   -> {"text", "backend", "backendNote", "threads"} on stdout
import { createEngine } from 'hearth-llm';

const [model, prompt, maxTokens] = process.argv.slice(2);
const engine = await createEngine({ model });
let text = '';
for await (const chunk of await engine.chat.completions.create({
  messages: [{ role: 'user', content: prompt }], temperature: 0, max_tokens: Number(maxTokens), stream: true,
})) text += chunk.choices[0].delta.content ?? '';
const { backend, backendNote, threads } = engine.info;
await engine.unload();
console.log(JSON.stringify({ text, backend, backendNote, threads }));

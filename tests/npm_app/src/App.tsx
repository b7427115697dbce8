// A user's React component: the README's three lines (createEngine, a streamed
// chat.completions.create, the text as it comes) with the model, the prompt and
// max_tokens from the page's query string. npm_package.test.mjs reads the answer.
import { useEffect, useRef, useState } from 'react';
import { createEngine, EngineError, type EngineInfo } from 'hearth-llm';

export function App() {
  const [answer, setAnswer] = useState('');
  const [status, setStatus] = useState('loading');
  const [info, setInfo] = useState<EngineInfo | null>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const q = new URLSearchParams(location.search);
    (async () => {
      // ?locate=URL: the engine's files from there (a CDN's layout: the package's folder as it is)
      const locate = q.get('locate');
      const engine = await createEngine({
        model: q.get('model') ?? '', backend: 'cpu',
        locateFile: locate ? (name) => new URL(`${name.endsWith('.wasm') ? 'dist/' : ''}${name}`, locate) : undefined,
      });
      setInfo(engine.info);
      setStatus('answering');
      const stream = await engine.chat.completions.create({
        messages: [{ role: 'user', content: q.get('prompt') ?? 'Hi' }],
        temperature: 0, max_tokens: Number(q.get('max_tokens') ?? 40), stream: true,
      });
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0].delta.content ?? '';
        setAnswer(text);
      }
      await engine.unload();
      setStatus('done');
    })().catch((e: Error) => setStatus(`error: ${e.name}${e instanceof EngineError ? '' : ' (not an EngineError)'}: ${e.message}`));
  }, []);
  return (
    <main>
      <p data-testid="status">{status}</p>
      <pre data-testid="answer">{answer}</pre>
      <pre data-testid="info">{info && JSON.stringify({ threads: info.threads, threadsNote: info.threadsNote, backend: info.backend, isolated: crossOriginIsolated })}</pre>
    </main>
  );
}

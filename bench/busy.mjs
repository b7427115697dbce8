// Competing work for the benchmarks' --busy N (issue 18: users' machines are always busy): N child
// processes, each one CPU-bound loop, running until stopBusy() or this process exits.
import { spawn } from 'node:child_process';

export function startBusy(n) {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const stop = () => children.forEach((c) => c.kill('SIGKILL'));
  process.on('exit', stop);
  return stop;
}

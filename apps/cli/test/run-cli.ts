/** The CLI run in-process, as the tests drive it: `polykernel ...args`, its exit status and what it printed. */
import { runCli } from '../src/cli.js';

export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'polykernel', ...args], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

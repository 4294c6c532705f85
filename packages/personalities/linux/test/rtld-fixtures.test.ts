/**
 * The saved host oracles (tools/fixtures/rtld/host/, made by regenerate.sh): the simulated ld.so's
 * calls, maps and allocations for /bin/true and /bin/ls must equal what the host showed — compared
 * while this machine still has the very files they were captured with (same sizes and inodes of
 * the program, its libraries, ld.so and /etc/ld.so.cache); elsewhere the test says so (its name,
 * and a line on stderr) and skips. That skip is not a vanished oracle: the captures only hold for
 * those very files, and the live ld.so oracles (rtld-oracle, rtld-malloc) make the same comparisons
 * against whatever files this machine has — and fail under CI when they cannot run.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simulate, straceLines } from './rtld-support.js';

const DIR = new URL('../../../../tools/fixtures/rtld/host/', import.meta.url);

function read(name: string): string {
  return readFileSync(fileURLToPath(new URL(name, DIR)), 'utf8');
}

/** Null when every "# file PATH SIZE INODE" line still holds, else the first that does not. */
function changed(text: string): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  for (const m of text.matchAll(/^# file (\S+) (\d+) (\d+)$/gm)) {
    try {
      const st = statSync(m[1]!);
      if (st.size !== Number(m[2]) || st.ino !== Number(m[3])) return `${m[1]} changed since the capture`;
    } catch {
      return `${m[1]} is missing`;
    }
  }
  return null;
}

describe('ld.so against the saved host captures', () => {
  for (const name of ['true', 'ls']) {
    const strace = read(`${name}.strace`);
    const maps = read(`${name}.maps`);
    const malloc = read(`${name}.malloc`);
    const why = changed(strace + maps + malloc);
    const prog = `/bin/${name}`;
    if (why !== null) console.warn(`[oracle skipped] the saved ld.so captures of ${prog} do not apply here: ${why} (the live ld.so oracles compare instead; tools/fixtures/rtld/regenerate.sh captures anew)`);
    it.skipIf(why !== null)(`${prog}: calls, maps and allocations as captured${why !== null ? ` (skipped: ${why}; run tools/fixtures/rtld/regenerate.sh)` : ''}`, () => {
      const sim = simulate(prog);
      expect(sim.calls).toEqual(straceLines(strace));
      expect(sim.maps).toEqual(maps.split('\n').filter((l) => l.startsWith('ldso-done maps ')).map((l) => l.slice(15)));
      expect(sim.result!.allocations.filter((a) => a.what !== 'free').map((a) => `malloc ${a.size}`)).toEqual(malloc.split('\n').filter((l) => l.startsWith('malloc ')));
    });
  }
});

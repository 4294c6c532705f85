/** examples/freebsd-shared-file.yaml: two processes map one file and share its page through the vnode's object. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWorkload } from './run.js';

const F = fileURLToPath(new URL('../../../examples/freebsd-shared-file.yaml', import.meta.url));

describe('examples/freebsd-shared-file.yaml', () => {
  it('procstat -v shows both mappings as vn /etc/hostname with REF 2, and the page is read from the file once', async () => {
    let out = '';
    expect(await runWorkload(F, { personality: 'freebsd' }, (s) => (out += s + '\n'), () => undefined)).toBe(0);
    const rows = out.split('\n').filter((l) => l.endsWith(' vn /etc/hostname'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/ r-- +1 +1 +2 +0 ----- vn /);
    expect(rows[1]).toMatch(/ r-- +1 +1 +2 +0 CN--- vn /);
    expect(out).toMatch(/page faults +file 1, soft 1/);
  });
});

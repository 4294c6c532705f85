import { describe, expect, it } from 'vitest';
import { storeValue } from './schema.js';

describe('store.value: 64-bit values exactly', () => {
  it('keeps safe numbers as numbers and reads wider decimal or hex strings as exact bigints', () => {
    expect(storeValue.parse(7)).toBe(7);
    expect(storeValue.parse('0x10')).toBe(16);
    expect(storeValue.parse('0xffffffffffffffff')).toBe(0xffffffffffffffffn);
    expect(storeValue.parse('9007199254740993')).toBe(9007199254740993n);
    expect(storeValue.parse(' 18446744073709551615 ')).toBe(18446744073709551615n);
  });

  it('refuses what cannot be stored exactly, saying why', () => {
    expect(storeValue.safeParse(2 ** 60).error?.issues[0]?.message).toMatch(/not exact as a number .* write it as a string/);
    expect(storeValue.safeParse(-1).error?.issues[0]?.message).toMatch(/unsigned/);
    expect(storeValue.safeParse('0x10000000000000000').error?.issues[0]?.message).toMatch(/does not fit in 64 bits/);
    expect(storeValue.safeParse('-5').error?.issues[0]?.message).toMatch(/unsigned decimal or hex/);
    expect(storeValue.safeParse(1.5).success).toBe(false);
  });
});

describe('store.value in a workload file', () => {
  const file = (value: string): string => `name: wide
personality: linux
processes:
  - name: p
    steps:
      - mmap: { name: A, length: 4K, prot: rw-, flags: [private, anonymous] }
      - store: { region: A, value: ${value}, size: 8 }
`;

  it('a quoted 64-bit value arrives exactly', async () => {
    const { parseWorkload } = await import('./index.js');
    const step = parseWorkload(file('"0xfffffffffffffff1"')).processes[0]!.steps[1]!;
    expect(step).toEqual({ store: { region: 'A', offset: 0, value: 0xfffffffffffffff1n, size: 8 } });
  });

  it('an unquoted one is refused at its line and column, saying to quote it', async () => {
    const { parseWorkload, WorkloadError } = await import('./index.js');
    let issue = '';
    try {
      parseWorkload(file('0xfffffffffffffff1'), 'w.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(WorkloadError);
      const i = (e as InstanceType<typeof WorkloadError>).issues[0]!;
      issue = `${i.line} ${i.path}: ${i.message}`;
    }
    expect(issue).toMatch(/^7 processes\[0\]\.steps\[1\]\.store\.value: .* write it as a string/);
  });
});

import { describe, expect, it } from 'vitest';
import { parseWorkload, WorkloadError } from './index.js';

const withArgs = (args: string): string => `name: r\nprocesses:\n  - name: p\n    steps:\n      - syscall: { name: mmap, args: ${args} }\n`;

function argsOf(args: string): unknown {
  const w = parseWorkload(withArgs(args), 'r.yaml');
  return (w.processes[0]!.steps[0] as { syscall: { args: unknown[] } }).syscall.args;
}

function errorOf(args: string): string {
  try {
    parseWorkload(withArgs(args), 'r.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    return (e as Error).message;
  }
  return '(no error)';
}

describe('64-bit register values in syscall steps (issue 18 item 10, issue 21)', () => {
  it('hex and decimal strings at or above 2^63 reach the kernel as their two\'s complement, exactly', () => {
    expect(argsOf('[0, "0xfffffffffffff000", 3, 34, "0xffffffffffffffff", 0]')).toEqual([0, -4096, 3, 34, -1, 0]);
    expect(argsOf('["18446744073709551615", "0xffe0000000000001"]')).toEqual([-1, -(2 ** 53 - 1)]);
    expect(argsOf('["0x1fffffffffffff"]')).toEqual([2 ** 53 - 1]);
  });

  it('values no safe number holds, and values wider than a register, are refused with the rule and the field', () => {
    expect(errorOf('[0, "0x20000000000000"]')).toMatch(/^r\.yaml:5:\d+: processes\[0\]\.steps\[0\]\.syscall\.args\[1\]: "0x20000000000000" cannot be passed exactly: .*2\^53/);
    expect(errorOf('[0, "0x10000000000000000"]')).toMatch(/args\[1\]: "0x10000000000000000" does not fit in a 64-bit register$/);
    expect(errorOf('[18446744073709551615]')).toMatch(/args\[0\]: a register holds a whole number between -2\^53 and 2\^53/);
  });
});

import { describe, expect, it } from 'vitest';
import { EXAMPLES, exampleName } from './examples.js';

describe('bundled examples', () => {
  it('names the native examples by file and the portable twins under portable/', () => {
    expect(exampleName('../../../examples/lecture-fork.yaml')).toBe('lecture-fork');
    expect(exampleName('../../../examples/portable/lecture-fork.yaml')).toBe('portable/lecture-fork');
    expect(EXAMPLES.get('portable/lecture-fork')).toMatch(/^name: lecture-fork-portable$/m);
    expect(EXAMPLES.get('lecture-fork')).toMatch(/^name: lecture-fork$/m);
    expect([...EXAMPLES.keys()].filter((k) => k.startsWith('portable/')).length).toBeGreaterThanOrEqual(5);
  });
});

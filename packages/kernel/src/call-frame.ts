/**
 * One call's frame (the `SyscallContext` a handler gets): its error in the call's own error space,
 * its structured record and its sleep, apart from the frames of the calls it nests.
 */
import type { CallRecord, SyscallArg, SyscallContext, SyscallSpec } from './contract.js';
import { errorNumber } from './errors.js';
import type { Kernel, SyscallResult } from './kernel.js';
import type { Process, Thread } from './process.js';

/** One call's frame: its error, record and sleep, separate from nested calls' frames. */
export class CallFrame<S, M> implements SyscallContext<S, M> {
  error: string | null = null;
  errorNumber = 0;
  recorded: CallRecord | null = null;
  blocked = false;
  constructor(
    readonly kernel: Kernel<S, M>,
    readonly thread: Thread,
    readonly process: Process<S>,
    readonly spec: SyscallSpec<S, M>,
    readonly depth: number,
    /** Cycles when the call entered the gate. */
    readonly start: number,
  ) {}

  fail(e: string, detail?: string): number {
    const space = this.spec.errors ?? this.kernel.personality.errorSpace;
    const num = errorNumber(space, e);
    if (num === undefined) throw new RangeError(`${e} does not exist in ${space}${detail !== undefined ? ` (${detail})` : ''}`);
    this.error = e;
    this.errorNumber = num;
    this.thread.errors[space] = { name: e, number: num };
    return (this.spec.failureValue ?? this.kernel.personality.failureValue)(num);
  }

  call(name: string, args: readonly SyscallArg[] = []): SyscallResult {
    return this.kernel.invokeNested(this.thread, this.spec.name, this.depth, name, args);
  }

  record(r: CallRecord): void {
    this.recorded = r;
  }

  block(reason: string, resume: (ctx: SyscallContext<S, M>) => number, value = 0): number {
    if (this.depth > 0) throw new RangeError(`${this.spec.name}: a nested call cannot sleep (block in the outermost call)`);
    this.blocked = true;
    this.thread.state = 'blocked';
    this.thread.pending = {
      spec: this.spec, reason,
      resume: resume as (ctx: SyscallContext<unknown>) => number, spent: this.kernel.metrics.cycles - this.start,
    };
    return value;
  }

  result(value: number): SyscallResult {
    const r: SyscallResult = { value, error: this.error, errorNumber: this.errorNumber };
    if (this.recorded !== null) r.record = this.recorded;
    if (this.blocked) r.blocked = true;
    return r;
  }
}

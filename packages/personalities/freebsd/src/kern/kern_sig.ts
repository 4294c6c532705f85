/**
 * sys/kern/kern_sig.c: kill(2) and the default dispositions. kill checks the signal number
 * (EINVAL above _SIG_MAXSIG), finds the target (a zombie counts: the call succeeds and nothing is
 * delivered; none: ESRCH), checks p_cansignal (EPERM) and posts the signal unless it is 0.
 * Without sigaction handlers every signal takes its default action: SIGPROP_IGNORE signals are
 * discarded, the rest end the process (stopping on SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU is not
 * modelled; those are discarded too). Process groups are not modelled: each process is its
 * own group, so kill(0, sig) signals the caller and kill(-pgid, sig) the process pgid.
 */
import type { Delivery, Process, SignalInfo, SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { SIGNALS, SIGNALS_IGNORED_BY_DEFAULT, SIG_MAXSIG } from '../param.js';
import { intArg } from '../vm/vm_mmap.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

const STOPS: ReadonlySet<string> = new Set(['SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU']);

/** Every signal number 1.._SIG_MAXSIG by name (unnamed numbers as SIG<n>, realtime ones included). */
export const ALL_SIGNALS: Readonly<Record<string, number>> = (() => {
  const out: Record<string, number> = { ...SIGNALS };
  const named = new Set(Object.values(SIGNALS));
  for (let n = 1; n <= SIG_MAXSIG; n++) if (!named.has(n)) out[`SIG${n}`] = n;
  return out;
})();

const BY_NUMBER: readonly string[] = (() => {
  const a: string[] = [];
  for (const [name, n] of Object.entries(ALL_SIGNALS)) a[n] = name;
  return a;
})();

/** The default action (sigprop): discard, or terminate (the core ends the process). */
export function deliver(_k: unknown, _t: unknown, info: SignalInfo): Delivery {
  if (info.fromFault) return 'default';
  if (SIGNALS_IGNORED_BY_DEFAULT.has(info.signal) || STOPS.has(info.signal)) return 'ignore';
  return 'default';
}

/** p_cansignal, for the credentials the simulation has: root, or a matching real or effective uid. */
function canSignal(from: Process<FreebsdSpace>, to: Process<FreebsdSpace>): boolean {
  const a = from.creds;
  const b = to.creds;
  return a.euid === 0 || a.uid === b.uid || a.euid === b.uid || a.uid === b.euid || a.euid === b.euid;
}

/** sys_kill. */
export function sysKill(ctx: Ctx, args: readonly SyscallArg[]): number {
  const pid = intArg(args, 0);
  const sig = intArg(args, 1);
  if (sig < 0 || sig > SIG_MAXSIG) return ctx.fail('EINVAL', `signal ${sig}`);
  const k = ctx.kernel;
  if (pid === -1) {
    // killpg1 broadcast: everyone but init, system processes and the caller.
    let found = false;
    for (const p of [...k.processes.values()]) {
      if (p.pid <= 1 || p === ctx.process || p.state !== 'running' || !canSignal(ctx.process, p)) continue;
      found = true;
      post(ctx, p, sig);
    }
    return found ? 0 : ctx.fail('ESRCH', 'no process to signal');
  }
  const target = pid > 0 ? k.processes.get(pid) : pid === 0 ? ctx.process : k.processes.get(-pid);
  if (target === undefined) return ctx.fail('ESRCH', `no process ${pid}`);
  if (!canSignal(ctx.process, target)) return ctx.fail('EPERM', 'p_cansignal');
  if (target.state === 'running') post(ctx, target, sig);
  return 0;
}

function post(ctx: Ctx, p: Process<FreebsdSpace>, sig: number): void {
  if (sig === 0) return;
  ctx.kernel.signal(p, BY_NUMBER[sig]!);
}

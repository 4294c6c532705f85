/**
 * `polykernel exec prog.exe -p windows`: CreateProcess of an image from a sysroot and what the new
 * process looks like — its VirtualQuery walk as WinDbg's `!address` prints it, after the loader
 * ran (or, with `suspended`, as CREATE_SUSPENDED leaves it: the exe and ntdll only).
 */
import { Kernel, type FileLookup, type ViewRow } from '@polykernel/kernel';
import { CREATE_SUSPENDED } from './constants.js';
import { windowsPersonality } from './personality.js';
import { harness } from './testkit.js';
import { addressRows, renderAddress } from './views.js';

export interface WindowsExecOptions {
  fs: FileLookup;
  suspended?: boolean;
  frames?: number;
  seed?: number;
}

export interface WindowsExecResult {
  /** 0 when the process was created and started; the Win32 error number otherwise. */
  error: string | null;
  errorNumber: number;
  /** The process's exit code if the loader ended it (STATUS_DLL_NOT_FOUND ...), else null. */
  exitCode: number | null;
  pid: number;
  text: string;
  rows: readonly ViewRow[];
  modules: { name: string; path: string; base: number; size: number; preferredBase: number; fixups: number; iatSlots: number; tlsCallbacks: number }[];
  commitCharge: number;
}

export function windowsExec(path: string, o: WindowsExecOptions): WindowsExecResult {
  const k = new Kernel(windowsPersonality({ fs: o.fs }), { contents: true, frames: o.frames ?? 65536, seed: o.seed ?? 1 });
  const shell = harness(k, k.createProcess(k.init, 'polykernel'));
  const ok = shell.call('CreateProcessW', path.startsWith('/') ? path : `/${path}`, o.suspended === true ? CREATE_SUSPENDED : 0);
  if (ok === 0) {
    return { error: shell.last.error, errorNumber: shell.t.errors.win32?.number ?? 0, exitCode: null, pid: 0, text: '', rows: [], modules: [], commitCharge: 0 };
  }
  const p = k.processes.get(shell.record().dwProcessId as number)!;
  const exited = p.state !== 'running';
  const space = p.space;
  return {
    error: null, errorNumber: 0, exitCode: exited ? p.exitStatus : null, pid: p.pid,
    text: exited ? '' : renderAddress(space),
    rows: exited ? [] : addressRows(space),
    modules: space.modules.map((m) => ({
      name: m.name, path: m.path, base: m.base, size: m.size, preferredBase: m.section.image!.preferredBase, fixups: m.section.image!.fixups,
      iatSlots: m.iatWritten, tlsCallbacks: m.section.image!.tlsCallbacks.length,
    })),
    commitCharge: space.commitCharge,
  };
}

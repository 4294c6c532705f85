/**
 * A Windows sysroot for the fixture programs: their own DLLs where the project builds them
 * (greet.dll), and stub system DLLs (kernel32.dll, msvcrt.dll ...) exporting exactly the names the
 * programs import from them (Windows' own DLLs cannot be shipped). Used by tests and by
 * tools/fixtures/windows/make-sysroot.mjs, which writes it to disk for `polykernel exec --sysroot`.
 */
import { parsePe } from '@polykernel/pe';
import { stubDll } from './stubdll.js';

/** Stub DLL bases: where Windows 10 x64 puts the real ones without ASLR is irrelevant; distinct and 64 KiB aligned. */
const STUB_BASE_64 = 0x7ff8_0000_0000;
const STUB_BASE_32 = 0x7700_0000;

/**
 * The files of a sysroot for `programs` (path → bytes): each program, the `dlls` given (project
 * DLLs, put in System32 or SysWOW64 by their bitness), and a stub for every other DLL they import.
 */
export function fixtureSysroot(programs: Readonly<Record<string, Uint8Array>>, dlls: Readonly<Record<string, Uint8Array>>): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { ...programs };
  const provided = new Map<string, true>();
  const wanted = new Map<string, { bits: 32 | 64; names: Set<string> }>();
  const folder = (bits: 32 | 64): string => (bits === 64 ? '/Windows/System32' : '/Windows/SysWOW64');
  for (const [name, bytes] of Object.entries(dlls)) {
    const bits = parsePe(bytes).bits;
    files[`${folder(bits)}/${name}`] = bytes;
    provided.set(`${bits}:${name.toLowerCase()}`, true);
  }
  for (const bytes of [...Object.values(programs), ...Object.values(dlls)]) {
    const pe = parsePe(bytes);
    for (const d of pe.imports()) {
      const key = `${pe.bits}:${d.name.toLowerCase()}`;
      if (provided.has(key)) continue;
      const w = wanted.get(key) ?? { bits: pe.bits, names: new Set<string>() };
      for (const e of d.entries) if (e.name !== null) w.names.add(e.name);
      wanted.set(key, w);
    }
  }
  let n = 0;
  for (const [key, w] of wanted) {
    const dll = key.slice(key.indexOf(':') + 1);
    const base = w.bits === 64 ? STUB_BASE_64 + n * 0x100000 : STUB_BASE_32 + n * 0x100000;
    files[`${folder(w.bits)}/${dll}`] = stubDll(dll, [...w.names], { bits: w.bits, imageBase: base });
    n++;
  }
  return files;
}

/**
 * procstat's views against usr.bin/procstat's FreeBSD 14 sources: the `--libxo json` field names
 * of procstat_vm.c (kve_protection and kve_flags members flattened into the row), kve_type by its
 * long name, no CheriBSD-only fields (is_guard); the FLAG column without a guard letter; procstat
 * -x's "%5d %-19s" prefix and value formats (%p, %ld, %#lx); procstat -c's "%5d %-16s" prefix.
 */
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { freebsdPersonality } from '../personality.js';
import { formatAuxValue, PROCSTAT_AUXV_HEADER } from './auxv.js';
import { PROCSTAT_ARGS_HEADER } from './args.js';
import { PROCSTAT_VM_HEADER } from './vm.js';

const MAP_STACK = 0x400;
const MAP_GUARD = 0x2000;
const MAP_PRIVATE = 0x2;
const MAP_ANON = 0x1000;

describe('procstat views, field by field', () => {
  it('procstat -v --libxo json: procstat_vm.c\'s names, kve_type\'s long names, no is_guard', () => {
    const k = new Kernel(freebsdPersonality(), { frames: 4096, contents: true });
    const p = k.createProcess(k.init, 'p');
    const t = p.threads[0]!;
    k.syscall(t, 'mmap', [0, 4096, 0, MAP_GUARD, -1, 0]);
    k.syscall(t, 'mmap', [0, 4 * 128 * 1024, 3, MAP_STACK | MAP_PRIVATE | MAP_ANON, -1, 0]);
    const rows = k.personality.views.find((v) => v.name === 'procstat-v')!.rows!(k, p);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual([
        'process_id', 'kve_start', 'kve_end', 'read', 'write', 'exec', 'kve_resident', 'kve_private_resident', 'kve_ref_count',
        'kve_shadow_count', 'copy_on_write', 'needs_copy', 'super_pages', 'grows_up', 'grows_down', 'wired', 'kve_type', 'kve_path',
      ]);
    }
    expect(rows.map((r) => r.kve_type)).toEqual(['guard', 'guard', 'none']);
    const text = k.personality.views.find((v) => v.name === 'procstat-v')!.render(k, p);
    expect(text.split('\n')[0]).toBe(PROCSTAT_VM_HEADER.trimEnd());
    expect(PROCSTAT_VM_HEADER).toBe('  PID              START                END PRT  RES PRES REF SHD FLAG  TP PATH\n');
    // MAP_GUARD's entry: vm_mmap_object adds MAP_COPY_ON_WRITE (neither MAP_ANON nor MAP_SHARED),
    // so it is "CN---"; the stack's gap "-----"; both type gd, neither a G.
    expect(text).toContain('        0x800000000        0x800001000 ---    0    0   0   0 CN--- gd \n');
    expect(text).toContain('        0x800001000        0x800061000 ---    0    0   0   0 ----- gd \n');
    expect(text).not.toContain('G----');
    expect(text).toMatch(/ rw- +0 +0 +0 +0 ---D- -- \n/);
  });

  it('procstat -x formats: %p pointers (0x0 for NULL), %ld counts, %#lx flags (0 for zero), AT_STACKPROT by name', () => {
    expect(PROCSTAT_AUXV_HEADER).toBe(`  PID COMM                ${'AUXV'.padEnd(16)} ${'VALUE'.padEnd(16)}\n`);
    expect(formatAuxValue('AT_BASE', 0)).toBe('0x0');
    expect(formatAuxValue('AT_ENTRY', 0x201158)).toBe('0x201158');
    expect(formatAuxValue('AT_PAGESZ', 4096)).toBe('4096');
    expect(formatAuxValue('AT_FLAGS', 0)).toBe('0');
    expect(formatAuxValue('AT_BSDFLAGS', 1)).toBe('0x1');
    expect(formatAuxValue('AT_HWCAP', 0x8fb)).toBe('0x8fb');
    expect(formatAuxValue('AT_STACKPROT', 7)).toBe('EXECUTABLE');
    expect(formatAuxValue('AT_STACKPROT', 3)).toBe('NONEXECUTABLE');
  });

  it('procstat -c: "%5s %-16s %-53s" header, "-" without arguments', () => {
    expect(PROCSTAT_ARGS_HEADER).toBe(`  PID COMM             ${'ARGS'.padEnd(53)}\n`);
    const k = new Kernel(freebsdPersonality(), { frames: 1024 });
    const p = k.createProcess(k.init, 'noargs');
    const out = k.personality.views.find((v) => v.name === 'procstat-c')!.render(k, p);
    expect(out.split('\n')[1]).toBe(`${String(p.pid).padStart(5)} noargs           noargs`);
  });
});

/** The kern.* / hw.* / security.bsd.* sysctls the model follows, on both sysvecs, against the layout exec builds. */
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { freebsdPersonality } from './personality.js';
import { freebsdKernSysctls, freebsdMachineName, freebsdVmSysctls } from './sysctl.js';

describe('freebsdKernSysctls', () => {
  it('amd64 (x86-64 profile) and arm64 (arm64-a72): the limits, the fallback brand, the stack top', () => {
    const amd = new Kernel(freebsdPersonality(), { frames: 256 });
    const arm = new Kernel(freebsdPersonality(), { frames: 256, profile: 'arm64-a72' });
    expect(freebsdMachineName(amd)).toBe('amd64');
    expect(freebsdMachineName(arm)).toBe('arm64');
    expect(freebsdKernSysctls(amd)).toMatchObject({
      'kern.maxdsiz': 32 * 2 ** 30, 'kern.dfldsiz': 32 * 2 ** 30, 'kern.maxssiz': 512 * 2 ** 20, 'kern.dflssiz': 8 * 2 ** 20, 'kern.sgrowsiz': 128 * 1024,
      'kern.elf64.fallback_brand': -1, 'kern.osreldate': 1_400_097, 'kern.usrstack': 0x7fff_ffff_f000, 'security.bsd.stack_guard_page': 1, 'hw.pagesize': 4096,
    });
    expect(freebsdKernSysctls(arm)).toMatchObject({
      'kern.maxdsiz': 2 ** 30, 'kern.dfldsiz': 128 * 2 ** 20, 'kern.maxssiz': 2 ** 30, 'kern.dflssiz': 128 * 2 ** 20, 'kern.usrstack': 0xffff_ffff_f000,
    });
    expect(freebsdVmSysctls(arm)!['vm.pmap.pg_ps_enabled']).toBe(1);
  });
});

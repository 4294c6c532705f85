/**
 * The VirtualQuery walk of a process, laid out as WinDbg's `!address` prints it: one line per
 * region (BaseAddress, EndAddress+1, RegionSize, Type, State, Protect, Usage), '+' where a new
 * allocation (or free range) begins, 64-bit values as WinDbg writes them (`7ff\`5e580000`).
 */
import type { ViewRow, ViewSpec } from '@polykernel/kernel';
import { MEM_FREE, protectName, stateName, typeName } from './constants.js';
import { vadAt, walk, type MemoryBasicInformation } from './mm.js';
import type { WindowsMachine, WindowsSpace } from './types.js';

/** A 64-bit value as WinDbg prints it: the high 32 bits without leading zeros, a backtick, the low 32 bits in 8 digits. */
export function windbgHex(n: number): string {
  const high = Math.floor(n / 2 ** 32);
  const low = n % 2 ** 32;
  return `${high.toString(16)}\`${low.toString(16).padStart(8, '0')}`;
}

function usageOf(space: WindowsSpace, m: MemoryBasicInformation): string {
  if (m.State === MEM_FREE) return 'Free';
  const v = vadAt(space, m.BaseAddress);
  return v !== undefined && v.usage !== '' ? v.usage : '<unknown>';
}

export function addressRows(space: WindowsSpace): ViewRow[] {
  return walk(space).map((m) => ({
    BaseAddress: m.BaseAddress, EndAddress: m.BaseAddress + m.RegionSize, RegionSize: m.RegionSize,
    AllocationBase: m.AllocationBase, AllocationProtect: m.AllocationProtect,
    Type: typeName(m.Type), State: stateName(m.State), Protect: m.State === MEM_FREE || m.Protect !== 0 ? protectName(m.Protect) : '',
    Usage: usageOf(space, m),
    start: m.State === MEM_FREE || m.BaseAddress === m.AllocationBase,
  }));
}

const HEADER = '  BaseAddress      EndAddress+1        RegionSize     Type       State                 Protect             Usage';

export function renderAddress(space: WindowsSpace): string {
  const lines = [HEADER, '-'.repeat(118)];
  for (const r of addressRows(space)) {
    const cells = [
      `${r.start === true ? '+' : ' '}${windbgHex(r.BaseAddress as number).padStart(18)}`,
      windbgHex(r.EndAddress as number).padStart(17),
      windbgHex(r.RegionSize as number).padStart(17),
      String(r.Type).padEnd(11),
      String(r.State).padEnd(11),
      String(r.Protect).padEnd(34),
      String(r.Usage),
    ];
    lines.push(cells.join(' ').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

export function windowsViews(): ViewSpec<WindowsSpace, WindowsMachine>[] {
  return [
    {
      name: 'address',
      title: 'WinDbg !address (a VirtualQuery walk)',
      render: (_k, p) => renderAddress(p.space),
      rows: (_k, p) => addressRows(p.space),
    },
    {
      name: 'virtualquery',
      title: 'VirtualQuery walk (MEMORY_BASIC_INFORMATION records)',
      render: (_k, p) => walk(p.space).map((m) => JSON.stringify(m)).join('\n') + '\n',
      rows: (_k, p) => walk(p.space).map((m) => ({ ...m })),
    },
  ];
}

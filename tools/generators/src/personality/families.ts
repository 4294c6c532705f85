/**
 * What differs between the kernel families a new personality can start from, keyed by its error
 * space: the conventions of the skeleton (failure value, signal numbers, process model, ID policy,
 * the one memory call the contract kit needs, the first native view) and, for every member of the
 * contract, where the real kernel's source does that work. The skeleton states these conventions
 * and implements none of the work: its memory call fails, its fault handler answers every fault
 * with the access-violation signal, and its view says it is not written yet.
 */

export type ErrorSpaceChoice = 'linux' | 'freebsd' | 'win32';

export const ERROR_SPACES: readonly ErrorSpaceChoice[] = ['linux', 'freebsd', 'win32'];

/** Comments for each member of `Personality<S, M>`: what the real kernel's source does there. */
export interface MemberHints {
  errorSpace: string;
  failureValue: string;
  syscalls: string;
  signals: string;
  waitStatus: string;
  processModel: string;
  ids: string;
  attach: string;
  createAddressSpace: string;
  destroyAddressSpace: string;
  pageTableOf: string;
  handleFault: string;
  deliver: string;
  views: string;
  metricsFilled: string;
}

export interface Family {
  /** The real kernel this family's comments point at. */
  kernel: string;
  /** `failureValue` as code (a function expression). */
  failureValue: string;
  /** The signals table as code (an object literal). */
  signals: string;
  /** What a bad user access becomes (the kit's `accessViolation`). */
  accessViolation: string;
  /** The `code` of the skeleton's violation, as an expression over `fault` (a FaultInfo). */
  violationCode: string;
  /** `waitStatus` as code (uses SIGNALS). */
  waitStatus: string;
  /** `processModel` as code. */
  processModel: string;
  /** The ID policy from @polykernel/kernel and the `ids` member as code. */
  idsImport: 'linuxIds' | 'freebsdIds' | 'windowsIds';
  ids: string;
  /** The memory call the kit maps memory with, and the error it fails with until it is written. */
  memoryCall: {
    name: string;
    number: number;
    args: readonly string[];
    table: string;
    kind: 'trap' | 'library';
    notWritten: string;
  };
  /** The test's `mapMemory`: constants it needs and its body (k, t, bytes in scope). */
  mapMemory: { constants: string; body: string };
  /** The first native view. */
  view: { name: string; title: string; hint: string };
  metricsFilled: readonly string[];
  hints: MemberHints;
}

const POSIX_MODEL = "{ bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' }";

export const FAMILIES: Readonly<Record<ErrorSpaceChoice, Family>> = {
  linux: {
    kernel: 'Linux',
    failureValue: '(errorNumber) => -errorNumber',
    signals: '{ SIGKILL: 9, SIGBUS: 7, SIGSEGV: 11, SIGCHLD: 17 }',
    accessViolation: 'SIGSEGV',
    violationCode: "'SEGV_MAPERR'",
    waitStatus: '(exitCode, signal) => (signal !== null ? (SIGNALS[signal] ?? 0) : ((exitCode ?? 0) & 0xff) << 8)',
    processModel: POSIX_MODEL,
    idsImport: 'linuxIds',
    ids: '(k) => linuxIds(k.options.pidMax)',
    memoryCall: { name: 'mmap', number: 9, args: ['addr', 'len', 'prot', 'flags', 'fd', 'off'], table: 'x86_64', kind: 'trap', notWritten: 'ENOSYS' },
    mapMemory: {
      constants: 'const MAP_PRIVATE = 0x02;\nconst MAP_ANONYMOUS = 0x20;',
      body: "return k.syscall(t, 'mmap', [0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;",
    },
    view: { name: 'maps', title: '/proc/<pid>/maps', hint: 'one line per VMA, as fs/proc/task_mmu.c show_map_vma() prints it' },
    metricsFilled: ['syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'processesCreated'],
    hints: {
      errorSpace: 'Linux errno (include/uapi/asm-generic/errno*.h).',
      failureValue: 'The raw system call returns -errno (arch/x86/entry/common.c do_syscall_64); libc turns it into -1 + errno.',
      syscalls: 'arch/x86/entry/syscalls/syscall_64.tbl (mmap = 9, munmap = 11, brk = 12); mmap is mm/mmap.c do_mmap() → mmap_region().',
      signals: 'arch/x86/include/uapi/asm/signal.h (SIGBUS 7, SIGSEGV 11, SIGCHLD 17).',
      waitStatus: 'kernel/exit.c wait_task_zombie(): (exit_code << 8) | termination signal.',
      processModel: 'kernel/exit.c forget_original_parent() → find_new_reaper(): orphans go to init, which reaps them; release_task() once the parent waited.',
      ids: 'kernel/pid.c alloc_pid(): the next free number after the last, wrapping at pid_max to 300.',
      attach: 'Per machine: vm_committed_as and the overcommit policy (mm/util.c), the zero page (mm/memory.c), the page cache, the kernel RNG.',
      createAddressSpace: 'kernel/fork.c mm_alloc() → mm_init(): an empty mm_struct (its VMA tree) and pgd_alloc() for the page table.',
      destroyAddressSpace: 'kernel/fork.c mmput() → mm/mmap.c exit_mmap(): unmap_vmas() frees every page, free_pgtables() the tables.',
      pageTableOf: 'mm->pgd.',
      handleFault:
        'arch/x86/mm/fault.c do_user_addr_fault(): find_vma(), access_error(), then mm/memory.c handle_mm_fault() (do_anonymous_page, do_wp_page, do_read_fault, expand_stack); no VMA: bad_area() → force_sig_fault(SIGSEGV, SEGV_MAPERR); a kernel-mode fault on a user address: fixup_exception() (return { kind: \'fixup\' }).',
      deliver: 'kernel/signal.c get_signal() → arch/x86/kernel/signal.c handle_signal() → setup_rt_frame(); the handler returns through rt_sigreturn (retry).',
      views: 'fs/proc/task_mmu.c (maps, smaps), fs/proc/array.c (status), fs/proc/meminfo.c.',
      metricsFilled: 'Only the fields this personality really fills: the contract kit checks that each one moves.',
    },
  },
  freebsd: {
    kernel: 'FreeBSD',
    failureValue: '() => -1',
    signals: '{ SIGKILL: 9, SIGBUS: 10, SIGSEGV: 11, SIGCHLD: 20 }',
    accessViolation: 'SIGSEGV',
    violationCode: "'SEGV_MAPERR'",
    waitStatus: '(exitCode, signal) => (signal !== null ? (SIGNALS[signal] ?? 0) : ((exitCode ?? 0) & 0xff) << 8)',
    processModel: POSIX_MODEL,
    idsImport: 'freebsdIds',
    ids: '(k) => freebsdIds(k.options.pidMax !== undefined ? { pidMax: k.options.pidMax } : {})',
    memoryCall: { name: 'mmap', number: 477, args: ['addr', 'len', 'prot', 'flags', 'fd', 'pos'], table: 'syscalls', kind: 'trap', notWritten: 'ENOSYS' },
    mapMemory: {
      constants: 'const MAP_PRIVATE = 0x0002;\nconst MAP_ANON = 0x1000;',
      body: "return k.syscall(t, 'mmap', [0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0]).value;",
    },
    view: { name: 'procstat-v', title: 'procstat -v <pid>', hint: 'one line per vm_map entry (kinfo_vmentry), as usr.bin/procstat/procstat_vm.c prints it' },
    metricsFilled: ['syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'processesCreated'],
    hints: {
      errorSpace: 'FreeBSD errno (sys/sys/errno.h).',
      failureValue: 'The kernel sets the carry flag and returns errno; the libc stub returns -1 and stores errno (lib/libc/amd64/SYS.h).',
      syscalls: 'sys/kern/syscalls.master (mmap = 477, munmap = 73); mmap is sys/vm/vm_mmap.c kern_mmap() → vm_mmap_object().',
      signals: 'sys/sys/signal.h (SIGBUS 10, SIGSEGV 11, SIGCHLD 20).',
      waitStatus: 'sys/sys/wait.h W_EXITCODE(ret, sig): (ret << 8) | sig.',
      processModel: 'sys/kern/kern_exit.c exit1(): children go to their reaper (initproc), proc_reparent(); kern_wait6() → proc_reap() frees the zombie.',
      ids: 'sys/kern/kern_fork.c fork_findpid() (lastpid + 1, kern.randompid, wrap to 2 at pid_max); threads: kern_thread.c tid_alloc() above 100000.',
      attach: 'Per machine: the vm_page queues and free lists (sys/vm/vm_page.c, vm_phys.c), superpage reservations (vm_reserv.c).',
      createAddressSpace: 'sys/vm/vm_map.c vmspace_alloc(): an empty vm_map and pmap_pinit() for the page table.',
      destroyAddressSpace: 'sys/vm/vm_map.c vmspace_exit() → vmspace_dofree(): vm_map_remove() of every entry, pmap_release().',
      pageTableOf: 'vmspace_pmap(vm) (the pmap\'s PML4).',
      handleFault:
        'sys/amd64/amd64/trap.c trap_pfault() → sys/vm/vm_fault.c vm_fault() (vm_map_lookup(), the object chain, zero-fill, COW); failure: trap_signal SIGSEGV (SEGV_MAPERR / SEGV_ACCERR) or SIGBUS; a kernel-mode fault in copyin/copyout: pcb_onfault (return { kind: \'fixup\' }).',
      deliver: 'sys/kern/kern_sig.c trapsignal() / postsig() → sys/amd64/amd64/exec_machdep.c sendsig(); the handler returns through sigreturn (retry).',
      views: 'usr.bin/procstat/procstat_vm.c (procstat -v, from sysctl kern.proc.vmmap: kinfo_vmentry).',
      metricsFilled: 'Only the fields this personality really fills: the contract kit checks that each one moves.',
    },
  },
  win32: {
    kernel: 'Windows NT',
    failureValue: '() => 0',
    signals: '{ EXCEPTION_ACCESS_VIOLATION: 0xc0000005, STATUS_GUARD_PAGE_VIOLATION: 0x80000001 }',
    accessViolation: 'EXCEPTION_ACCESS_VIOLATION',
    violationCode: "fault.access === ACCESS_WRITE ? 'write' : 'read'",
    waitStatus: '(exitCode, signal) => (signal !== null ? (SIGNALS[signal] ?? 0) : (exitCode ?? 0))',
    processModel: "{ bootComm: 'System', adoptsOrphans: false, bootReaps: false, lifetime: 'handles' }",
    idsImport: 'windowsIds',
    ids: '() => windowsIds()',
    memoryCall: { name: 'VirtualAlloc', number: -1, args: ['lpAddress', 'dwSize', 'flAllocationType', 'flProtect'], table: 'kernel32', kind: 'library', notWritten: 'ERROR_NOT_SUPPORTED' },
    mapMemory: {
      constants: 'const MEM_COMMIT = 0x1000;\nconst MEM_RESERVE = 0x2000;\nconst PAGE_READWRITE = 0x04;',
      body: "const base = k.syscall(t, 'VirtualAlloc', [0, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE]).value;\n  return base === 0 ? -1 : base; // VirtualAlloc returns NULL on failure",
    },
    view: { name: 'virtualquery', title: 'VirtualQuery walk', hint: 'one MEMORY_BASIC_INFORMATION per region, as a VirtualQueryEx loop over the address space returns them' },
    metricsFilled: ['syscalls', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'processesCreated'],
    hints: {
      errorSpace: 'Win32 LastError codes (winerror.h); NT services return NTSTATUS (give their specs errors: \'ntstatus\').',
      failureValue: 'Win32 APIs return FALSE/NULL and set LastError (kernelbase BaseSetLastNTError → RtlNtStatusToDosError).',
      syscalls:
        'NT services are traps (KiSystemServiceTable: NtAllocateVirtualMemory, NtFreeVirtualMemory, errors: \'ntstatus\'); kernel32/kernelbase wrappers (VirtualAlloc over NtAllocateVirtualMemory) are library calls that ctx.call() them.',
      signals: 'ntstatus.h exception codes (STATUS_ACCESS_VIOLATION 0xC0000005, STATUS_GUARD_PAGE_VIOLATION 0x80000001).',
      waitStatus: 'GetExitCodeProcess(): the exit code, or the exception code of an unhandled exception.',
      processModel: 'System is PID 4; a child keeps its creator\'s ID (InheritedFromUniqueProcessId) and is not re-parented; the process object lives until its last handle closes (ObDereferenceObject → PspProcessDelete).',
      ids: 'Process and thread IDs are handles of one table, PspCidTable (ExCreateHandle): multiples of 4, delayed reuse.',
      attach: 'Per machine: the commit limit and charge (MmTotalCommitLimit, MmTotalCommittedPages), the PFN database lists, section objects.',
      createAddressSpace: 'MmCreateProcessAddressSpace() (the page directory) and MmInitializeProcessAddressSpace() (an empty VAD tree).',
      destroyAddressSpace: 'MmCleanProcessAddressSpace() / MmDeleteProcessAddressSpace(): every VAD deleted, the working set emptied, the tables freed.',
      pageTableOf: 'The process\'s DirectoryTableBase (CR3).',
      handleFault:
        'KiPageFault → MmAccessFault(): MiCheckVirtualAddress() against the VAD tree, MiResolveDemandZeroFault(), guard pages (STATUS_GUARD_PAGE_VIOLATION once); otherwise STATUS_ACCESS_VIOLATION through KiDispatchException; a kernel-mode fault inside a __try around ProbeForRead/copy: the SEH fixup (return { kind: \'fixup\' }).',
      deliver: 'KiDispatchException → ntdll KiUserExceptionDispatcher → RtlDispatchException: vectored handlers, then SEH frames; EXCEPTION_CONTINUE_EXECUTION is a retry.',
      views: 'VirtualQueryEx → NtQueryVirtualMemory(MemoryBasicInformation): one MEMORY_BASIC_INFORMATION per region.',
      metricsFilled: 'Only the fields this personality really fills: the contract kit checks that each one moves.',
    },
  },
};

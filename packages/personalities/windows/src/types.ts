/**
 * The Windows personality's state: VADs (one per allocation, on the AVL index as Windows keeps its
 * VAD tree, MiInsertVad / MiLocateAddress), per-process address spaces and handle tables, and the
 * per-machine commit accounting and section objects.
 */
import type { Rng } from '@polykernel/core';
import type { FileLookup, Process, Thread } from '@polykernel/kernel';
import type { PageTable } from '@polykernel/mmu';
import type { ExportEntry, ImportedDll } from '@polykernel/pe';
import type { AddressSpaceIndex } from '@polykernel/vm';

/** A section object (a SECTION with its control area): pagefile-backed, a file, or an image. */
export interface Section {
  readonly kind: 'pagefile' | 'file' | 'image';
  readonly name: string;
  /** Size in pages (an image: SizeOfImage / 4 KiB). */
  readonly pages: number;
  /** The prototype pages: the shared frame of each page, -1 until first touched. */
  readonly frames: Int32Array;
  /** What a page holds before it is written: the file's bytes (laid out at RVAs for an image). */
  readonly bytes: Uint8Array | null;
  /** Per-page protection of an image's pages (headers READONLY, sections as their characteristics say). */
  readonly imageProtect: Uint16Array | null;
  /** The section's page protection (CreateFileMapping's flProtect): the most a view may get. */
  readonly protect: number;
  /** A data-file section's file (what NtQueryVirtualMemory's MemoryMappedFilenameInformation names). */
  readonly path?: string;
  /** Views mapped plus handles open: the section goes (its frames freed) when both reach zero. */
  views: number;
  handles: number;
  /** Commit charged for the section itself (pagefile-backed sections are charged at creation). */
  charged: number;
  /** An image's load information (entry point, preferred base, relocations applied ...). */
  image: ImageInfo | null;
}

export interface ImageInfo {
  readonly path: string;
  readonly preferredBase: number;
  readonly sizeOfImage: number;
  readonly entryRva: number;
  readonly machine: number;
  readonly dll: boolean;
  readonly stackReserve: number;
  readonly stackCommit: number;
  readonly heapReserve: number;
  readonly heapCommit: number;
  readonly imports: readonly string[];
  /** The import descriptors (what the loader walks) and the export table (what it resolves against). */
  readonly importTable: readonly ImportedDll[];
  readonly exports: readonly ExportEntry[];
  /** False when IMAGE_FILE_RELOCS_STRIPPED: the image can only load at its preferred base. */
  readonly relocatable: boolean;
  /** 32 (PE32) or 64 (PE32+): the IAT slot size. */
  readonly bits: 32 | 64;
  readonly tlsCallbacks: readonly number[];
  /** Base relocations applied for the base it was laid out at (0 at its preferred base). */
  fixups: number;
  /** The base the section's bytes are relocated for. */
  base: number;
}

/** An image mapped in a process, as the loader's LDR_DATA_TABLE_ENTRY knows it. */
export interface LoadedModule {
  readonly name: string;
  readonly path: string;
  readonly base: number;
  readonly size: number;
  readonly section: Section;
  /** Exports by name and by ordinal: RVA, or a forwarder string ('NTDLL.RtlAllocateHeap'). */
  readonly byName: ReadonlyMap<string, number | string>;
  readonly byOrdinal: ReadonlyMap<number, number | string>;
  /** IAT slots written when its imports were snapped. */
  iatWritten: number;
}

/** One Virtual Address Descriptor: an allocation (a reservation, a view, an image). */
export interface Vad {
  start: number;
  end: number;
  /** MEM_PRIVATE, MEM_MAPPED or MEM_IMAGE. */
  readonly type: number;
  /** The protection given when the allocation was made (MEMORY_BASIC_INFORMATION.AllocationProtect). */
  readonly allocationProtect: number;
  /**
   * Per page: 0 while reserved, else the PAGE_* protection of the committed page (guard bit
   * included). Null while no page was ever committed (a large reservation costs nothing more).
   */
  protect: Uint16Array | null;
  /** The protection of every page while `protect` is null (0: all reserved) — one-protection VADs need no array. */
  uniform: number;
  /** Per page: the frame privately backing it (demand-zero or a copy-on-write copy), -1 if none. */
  frames: Int32Array | null;
  /** Pages committed now. */
  committed: number;
  /** Pages of commit charged to the process for this VAD. */
  charged: number;
  /** A view's section and its first page in it. */
  readonly section: Section | null;
  readonly sectionOffset: number;
  /** The main thread's stack: its guard page moves down as it grows (MiCheckForUserStackOverflow). */
  readonly stack: boolean;
  /** What !address calls it: 'Stack', 'Heap', 'PEB', 'TEB', 'Image', 'MappedFile', '' (VirtualAlloc). */
  usage: string;
}

/** An entry in a process's handle table (ObpCreateHandle): the object and the access granted. */
export type HandleObject =
  | { readonly kind: 'process'; readonly process: Process<WindowsSpace> }
  | { readonly kind: 'thread'; readonly process: Process<WindowsSpace>; readonly tid: number }
  | { readonly kind: 'section'; readonly section: Section }
  | { readonly kind: 'event'; readonly event: WinEvent }
  | { readonly kind: 'file'; readonly file: FileObject };

/** An event object (KEVENT): a notification (manual-reset) or synchronization (auto-reset) event. */
export interface WinEvent {
  readonly name: string;
  /** NotificationEvent: stays signalled until reset; SynchronizationEvent: a satisfied wait resets it. */
  readonly manual: boolean;
  signaled: boolean;
  /** Handles open on it: a named event leaves \\BaseNamedObjects when the last one closes. */
  handles: number;
}

/**
 * A file's contents as the machine sees them (the FCB every file object on the path shares): the
 * sysroot's bytes until the first write, then a copy owned by the machine — writes never reach the
 * host or the sysroot lookup.
 */
export interface FileNode {
  readonly path: string;
  bytes: Uint8Array;
  /** False while `bytes` is the sysroot's own array (copied before the first write). */
  owned: boolean;
}

/** A file object opened on a sysroot file (NtCreateFile / CreateFileW). */
export interface FileObject {
  readonly path: string;
  /** The file's current bytes (its node's: what WriteFile and SetEndOfFile left). */
  readonly bytes: Uint8Array;
  /** The contents shared by every file object opened on the path. */
  readonly node: FileNode;
  /** FILE_READ_DATA / FILE_WRITE_DATA granted (GENERIC_READ / GENERIC_WRITE). */
  readonly read: boolean;
  readonly write: boolean;
  readonly execute: boolean;
  /** The file pointer (SetFilePointer / ReadFile advance it). */
  position: number;
  /** Set for a device's file object instead of a file's: 'null' is \\Device\\Null (the NUL device). */
  readonly device?: 'null';
}

/** A vectored exception handler's verdict (the simulation runs no user code: it says what the handler returns). */
export type HandlerAction = 'continue-execution' | 'continue-search';

export interface WindowsSpace {
  readonly pt: PageTable;
  readonly vads: AddressSpaceIndex<Vad>;
  /** The VAD bitmap: one byte per 64 KiB chunk of the first 2 GiB, non-zero when a VAD touches it (mm.ts). */
  readonly vadBitmap: Uint8Array;
  /** VadBitMapHint: every chunk below it is in use. */
  vadBitmapHint: number;
  /** Commit charged to this process (PrivateUsage / PagefileUsage), in pages, and its peak. */
  commitCharge: number;
  peakCommit: number;
  /** Pages locked in the working set (VirtualLock), by virtual page number. */
  readonly locked: Set<number>;
  /** Handle table: handle value (multiples of 4, from 4) → object. */
  readonly handles: Map<number, HandleObject>;
  /** Handles with OBJ_INHERIT (HANDLE_FLAG_INHERIT): CreateProcess(bInheritHandles) copies them at the same values. */
  readonly inheritable: Set<number>;
  nextHandle: number;
  /** DLLs LoadLibrary mapped, with their load counts (LDR_DATA_TABLE_ENTRY.LoadCount / DdagNode reference count). */
  readonly loadCounts: Map<LoadedModule, number>;
  /** The DLLs a LoadLibrary'd DLL holds a reference on (its imports that were dynamic): FreeLibrary lets them go too. */
  readonly loadDeps: Map<LoadedModule, LoadedModule[]>;
  /** AddVectoredExceptionHandler registrations, first to run first. */
  readonly vectoredHandlers: { code: string | null; action: HandlerAction }[];
  /** Exceptions delivered to a handler (for tests and views). */
  exceptionsDispatched: number;
  /** Images mapped in the process (the exe first, then DLLs in load order: the PEB's module list). */
  readonly modules: LoadedModule[];
  /** The loader (LdrInitializeThunk) has run: imports snapped. It runs when the main thread first runs. */
  loaderRan: boolean;
  /** The image the process was created from, and where its PEB/TEB/stack are. */
  image: ImageInfo | null;
  imageBase: number;
  peb: number;
  teb: number;
  stackBase: number;
  stackLimit: number;
}

export interface WindowsMachine {
  readonly rng: Rng;
  readonly fs: FileLookup;
  /** Commit limit in pages: physical memory plus the paging file (MmTotalCommitLimit). */
  readonly commitLimit: number;
  /** System-wide commit charge in pages (MmTotalCommittedPages). */
  commitCharge: number;
  /** The image sections already made, by path (the image section cache of each file's control area). */
  readonly imageSections: Map<string, Section>;
  /** Named sections (\\BaseNamedObjects\\<name>): CreateFileMapping/OpenFileMapping by name. */
  readonly namedSections: Map<string, Section>;
  /** Named events (\\BaseNamedObjects\\<name>): one namespace with the sections'. */
  readonly namedEvents: Map<string, WinEvent>;
  /** Threads sleeping in a wait with a finite timeout: the cycle count it ends at (KeWaitForMultipleObjects' timer). */
  readonly timedWaits: Map<Thread, number>;
  /** DLLs mapped into every new process before its imports (WindowsOptions.injectDll: AppInit-style injection). */
  readonly injectDlls: readonly string[];
  /** Processes the kernel created through CreateProcess with their names, for `process: <name>` in workloads. */
  readonly byName: Map<string, Process<WindowsSpace>>;
  /** Files opened so far, by path: their contents, written by WriteFile / SetEndOfFile (machine-local). */
  readonly fileNodes: Map<string, FileNode>;
}

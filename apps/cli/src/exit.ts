/** The exit statuses of every command (documented in \`polykernel --help\`). */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** The thing examined failed: a file that cannot be read or is malformed, an invalid workload, an output that cannot be written. */
  failure: 1,
  /** A usage error: unknown option or command, missing argument, bad value, an option that does not apply. */
  usage: 2,
} as const;

const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device', EIO: 'input/output error', EDQUOT: 'disk quota exceeded', EFBIG: 'file too large', EBADF: 'bad file descriptor', EAGAIN: 'output would block',
};

const OPEN_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long', EROFS: 'read-only file system', EEXIST: 'file exists', EPERM: 'operation not permitted',
};

/** One line for an error that escaped a command: an output that cannot be written, or an internal error (never a stack trace). */
export function outputFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code in WRITE_ERRORS) return `polykernel: cannot write the output: ${WRITE_ERRORS[code]!} (${code})`;
  // A file the command was told to create or read that cannot be opened (-o /no/such/dir/x.yaml).
  const path = (e as NodeJS.ErrnoException | null)?.path;
  if (typeof code === 'string' && code in OPEN_ERRORS && typeof path === 'string') return `polykernel: ${path}: ${OPEN_ERRORS[code]!} (${code})`;
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'polykernel: the input is too large or too deeply nested to process (the host ran out of stack)';
  const msg = e instanceof Error ? e.message : String(e);
  return `polykernel: internal error: ${msg.split('\n')[0] ?? msg} (set POLYKERNEL_DEBUG=1 for the stack; please report it)`;
}

/** Reading the files the commands are given: regular files only, with a size check. */
import { constants as fsConstants, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { sniff } from '@polykernel/loader';

/** The largest file inspect reads (the biggest shared objects are a few hundred MB). */
export const MAX_INSPECT_BYTES = 1024 ** 3;

/**
 * The file's bytes, or why not: only regular files are read (a device such as /dev/zero or a FIFO
 * would never end), and only up to MAX_INSPECT_BYTES, checked with fstat on the opened file.
 */
export async function readRegular(file: string, max = MAX_INSPECT_BYTES, large?: LargeFileReader): Promise<Uint8Array | string> {
  return withRegular<Uint8Array>(file, max, (fh) => fh.readFile(), large);
}

/**
 * What to read of a regular file over the size limit, given positioned reads of it and its size:
 * the bytes to use, or why not (appended to the "too large" message; null: nothing to add). Never
 * the whole file.
 */
export type LargeFileReader = (read: (offset: number, length: number) => Promise<Uint8Array>, size: number, max: number) => Promise<Uint8Array | string | null>;

/** Why a --sysroot value cannot be one (it must be a directory), or null. */
export function sysrootProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `--sysroot ${dir}: not a directory`;
  } catch (e) {
    return `--sysroot ${dir}: ${errnoText((e as NodeJS.ErrnoException).code) ?? (e as Error).message}`;
  }
}

/** strerror's text for the errors opening a file gives, or undefined. */
function errnoText(code: string | undefined): string | undefined {
  const text: Record<string, string> = {
    ENOENT: 'No such file or directory', EACCES: 'Permission denied', EISDIR: 'is a directory', ENOTDIR: 'Not a directory', ELOOP: 'Too many levels of symbolic links',
    ENAMETOOLONG: 'File name too long', EIO: 'Input/output error', ENXIO: 'No such device or address', EPERM: 'Operation not permitted', EMFILE: 'Too many open files',
  };
  return code === undefined ? undefined : text[code] === undefined ? undefined : `${text[code]}${code === 'EISDIR' ? '' : ` (${code})`}`;
}

/** The bytes a too-large file's description is made from (its header, never the whole file). */
const HEAD_BYTES = 4096;

/** What a file's first bytes say it is, for a file too large to read whole. */
function headOf(head: Uint8Array): string {
  const format = sniff(head);
  return format === null ? 'its first bytes are no ELF, PE, Mach-O or #! header' : `by its header ${format === 'elf' ? 'an ELF' : format === 'pe' ? 'a PE' : format === 'macho' ? 'a Mach-O' : 'a #!'} file`;
}

/** The size of a regular file of at most `max` bytes, or why it is refused (as readRegular says it), without reading it. */
export async function regularSize(file: string, max: number): Promise<number | string> {
  return withRegular(file, max, async (fh) => (await fh.stat()).size);
}

async function withRegular<T>(
  file: string, max: number, use: (fh: FileHandle) => Promise<T>,
  large?: (read: (offset: number, length: number) => Promise<Uint8Array>, size: number, max: number) => Promise<T | string | null>,
): Promise<T | string> {
  let fh;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not wait for one.
    fh = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'No such file' : errnoText(code) ?? (e as Error).message;
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return 'is a directory';
    if (!st.isFile()) {
      const kind = st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'not a regular file';
      return `is not an ordinary file (${kind})`;
    }
    if (st.size > max) {
      // Only the header is read (a 100 GB sparse file must not be read whole).
      const head = new Uint8Array(HEAD_BYTES);
      const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
      const tooLarge = `is too large (${st.size.toLocaleString('en-US')} bytes; at most ${max.toLocaleString('en-US')}): ${headOf(head.subarray(0, bytesRead))}`;
      if (large === undefined) return tooLarge;
      const read = async (offset: number, length: number): Promise<Uint8Array> => {
        const buf = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead: n } = await fh.read(buf, done, length - done, offset + done);
          if (n === 0) break; // the end of the file: a short read, as the parsers then report
          done += n;
        }
        return buf.subarray(0, done);
      };
      const got = await large(read, st.size, max);
      return got === null ? tooLarge : typeof got === 'string' ? `${tooLarge}; ${got}` : got;
    }
    return await use(fh);
  } catch (e) {
    // A read that fails (EIO from /proc/self/mem): strerror's text, on one line.
    return errnoText((e as NodeJS.ErrnoException).code) ?? (e as Error).message.split('\n')[0]!;
  } finally {
    await fh.close();
  }
}


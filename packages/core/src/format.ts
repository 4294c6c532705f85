/**
 * Hex formatting in the styles kernel tools print. All accept any safe integer; none uses bitwise
 * operators, so values above 2^32 print correctly.
 */

/** `%x`: lowercase hex, no prefix, no padding. */
export function hex(value: number): string {
  return value.toString(16);
}

/** `0x%x` (readelf's addresses, procstat's start/end). */
export function hex0x(value: number): string {
  return '0x' + value.toString(16);
}

/** `%0<width>x`: zero-padded lowercase hex without prefix (e.g. `%08lx` in /proc/pid/maps). */
export function hexPad(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** `%016lx`: 64-bit zero-padded hex, as in readelf -W program headers. */
export function hex016(value: number): string {
  return hexPad(value, 16);
}

/** `%08x`: 32-bit zero-padded hex. */
export function hex08(value: number): string {
  return hexPad(value, 8);
}

/** `0x%016lx`: zero-padded with prefix, as readelf prints 64-bit addresses. */
export function hex0x016(value: number): string {
  return '0x' + hexPad(value, 16);
}

/** `0x%08x`. */
export function hex0x08(value: number): string {
  return '0x' + hexPad(value, 8);
}

/** Human-readable byte size with binary units: 4096 -> "4 KiB", 3145728 -> "3 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = Number.isInteger(v) ? v.toString() : v.toFixed(1);
  return `${text} ${units[u] ?? 'B'}`;
}

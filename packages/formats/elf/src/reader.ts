// The bounds-checked reader is shared by every format parser; it lives in core.
export { ByteReader } from '@polykernel/core';

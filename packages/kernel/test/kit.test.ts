/** The contract kit on both toy personalities (a new personality's suite looks like this). */
import { contractSuite } from '../src/testing/index.js';
import { toyMap, toyPosix, toyWin } from './toys.js';

contractSuite('toyposix', { personality: toyPosix, mapMemory: toyMap, unmappedAddress: 0x5000, accessViolation: 'SIGSEGV' });
contractSuite('toywin', { personality: toyWin, mapMemory: toyMap, unmappedAddress: 0x5000, accessViolation: 'EXCEPTION_ACCESS_VIOLATION' });

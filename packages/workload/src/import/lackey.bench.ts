/**
 * Lackey parsing against the limit: reading the same file's lines with nothing done to them.
 * Run: LACKEY_TRACE=/tmp/ls.lackey npx vitest bench --run src/import/lackey.bench.ts
 * (record one with: valgrind --tool=lackey --trace-mem=yes --log-file=/tmp/ls.lackey ls -l /usr);
 * without LACKEY_TRACE the committed trace of /bin/true (170,000 references) is used.
 * References per second = the reported hz × the trace's references (printed first).
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { bench, describe } from 'vitest';
import { LackeyParser, parseLackeyText } from './lackey.js';

const given = process.env.LACKEY_TRACE;
const plain = given ?? join(tmpdir(), 'polykernel-true.lackey');
if (given === undefined) writeFileSync(plain, gunzipSync(readFileSync(fileURLToPath(new URL('../../../../examples/real/true.lackey.gz', import.meta.url)))));
const gz = `${plain}.bench.gz`;
writeFileSync(gz, gzipSync(readFileSync(plain), { level: 6 }));
const bytes = readFileSync(plain);
const { stats } = parseLackeyText(bytes.toString('latin1'));
console.log(`${plain}: ${bytes.length.toLocaleString('en-US')} bytes, ${stats.lines.toLocaleString('en-US')} lines, ${stats.refs.toLocaleString('en-US')} references`);

async function parseStream(input: NodeJS.ReadableStream): Promise<number> {
  let refs = 0;
  const p = new LackeyParser((b) => void (refs += b.count));
  for await (const chunk of input) p.push(chunk as Buffer);
  p.end();
  return refs;
}

describe('lackey: file to references', () => {
  bench('limit: count the newlines of the file stream (raw line reading)', async () => {
    let lines = 0;
    for await (const chunk of createReadStream(plain, { highWaterMark: 1 << 20 })) {
      const b = chunk as Buffer;
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
    }
    if (lines === 0) throw new Error('empty');
  }, { iterations: 5, warmupIterations: 1 });
  bench('node readline over the file stream (a line string each, nothing parsed)', async () => {
    let lines = 0;
    for await (const l of createInterface({ input: createReadStream(plain, { highWaterMark: 1 << 20 }), crlfDelay: Infinity })) lines += l.length >= 0 ? 1 : 0;
    if (lines === 0) throw new Error('empty');
  }, { iterations: 5, warmupIterations: 1 });
  bench('LackeyParser over the file stream', async () => {
    await parseStream(createReadStream(plain, { highWaterMark: 1 << 20 }));
  }, { iterations: 5, warmupIterations: 1 });
  bench('LackeyParser over the .gz, gunzip included', async () => {
    await parseStream(createReadStream(gz, { highWaterMark: 1 << 20 }).pipe(createGunzip()));
  }, { iterations: 5, warmupIterations: 1 });
});

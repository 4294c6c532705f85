import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { parsePort, resolveRequest, runWeb, startWebServer, WEB_HOST, type WebServer } from './web.js';

/** A raw GET (node does not normalise the path, so "/../" reaches the server as written). */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((ok, fail) => {
    const req = request({ host: WEB_HOST, port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => { ok({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }); });
    });
    req.on('error', fail);
    req.end();
  });
}

const base = mkdtempSync(join(tmpdir(), 'pk-web-'));
const root = join(base, 'app');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
writeFileSync(join(root, 'assets', 'a.js'), 'export {};');
writeFileSync(join(base, 'secret.txt'), 'SECRET');
symlinkSync(join(base, 'secret.txt'), join(root, 'link.txt'));

describe('polykernel web: the static server', () => {
  let web: WebServer;
  beforeAll(async () => { web = await startWebServer(root, 0); });
  afterAll(async () => { await web.close(); });

  it('listens on the loopback interface only', () => {
    const addr = web.server.address();
    expect(typeof addr === 'object' && addr?.address).toBe('127.0.0.1');
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/`);
  });

  it('serves the app\'s files with their types', async () => {
    expect(await get(web.port, '/')).toMatchObject({ status: 200, body: '<!doctype html><title>app</title>', type: 'text/html; charset=utf-8' });
    expect(await get(web.port, '/assets/a.js?v=1')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect((await get(web.port, '/assets/none.js')).status).toBe(404);
    expect((await get(web.port, '/', 'POST')).status).toBe(405);
  });

  it('refuses paths outside the app: .., encoded .., and a symbolic link that leads out', async () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/link.txt']) {
      const r = await get(web.port, path);
      expect(r.status, path).toBe(403);
      expect(r.body).not.toContain('SECRET');
    }
    expect((await get(web.port, '/%E0%A4%A')).status).toBe(400);
    expect(await resolveRequest(root, '/..')).toEqual({ status: 403 });
  });
});

describe('polykernel web: the command', () => {
  it('prints the URL, serves, and stops cleanly, releasing the port', async () => {
    const out: string[] = [];
    const stop = new AbortController();
    const running = runWeb({ port: '0', dir: root }, (s) => out.push(s), (s) => out.push(`err: ${s}`), stop.signal);
    await expect.poll(() => out.length).toBeGreaterThan(0);
    const url = /at (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out[0] ?? '');
    expect(url, out[0]).not.toBeNull();
    const port = Number(url![2]);
    expect((await get(port, '/')).status).toBe(200);
    stop.abort();
    expect(await running).toBe(0);
    expect(out.at(-1)).toBe('polykernel web: stopped');
    await expect(get(port, '/')).rejects.toThrow(/ECONNREFUSED/);
    // The port is free again: a new server can take it.
    const again = await startWebServer(root, port);
    await again.close();
  });

  it('says so when the app is not built, and refuses a bad --port as a usage error', async () => {
    const err: string[] = [];
    expect(await runWeb({ dir: base }, () => undefined, (s) => err.push(s), AbortSignal.abort())).toBe(1);
    expect(err[0]).toMatch(/the app is not built: .*index\.html is missing \(build it with: npx nx build @polykernel\/web\)/);
    expect(parsePort('65536')).toMatch(/--port takes 0 to 65535/);
    expect(parsePort('80')).toBe(80);
    const io = { out: (): void => undefined, err: (s: string): void => void err.push(s) };
    expect(await runCli(['node', 'polykernel', 'web', '--port', 'x'], io)).toBe(2);
    expect(err.at(-1)).toBe('polykernel web: --port takes 0 to 65535 (0: any free port); got "x"');
  });

  it('documents itself in --help', async () => {
    const out: string[] = [];
    expect(await runCli(['node', 'polykernel', 'web', '--help'], { out: (s) => out.push(s), err: () => undefined })).toBe(0);
    expect(out.join('\n')).toMatch(/127\.0\.0\.1[\s\S]*--port <n>[\s\S]*refused with 403/);
  });
});

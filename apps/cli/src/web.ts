/**
 * `polykernel web`: serve the built visualizer (apps/web/dist) on the loopback interface and print
 * its URL. The app is static files (the engine runs in the browser, in a worker), so the server
 * only reads files under its root: GET and HEAD, no directory listings, nothing outside the root
 * (a `..` or a symbolic link that leads out is refused with 403), and it stops cleanly on SIGINT
 * or SIGTERM (open connections are closed, the port is released).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT } from './exit.js';

/** Loopback only: the visualizer is a local tool, never a service on the network. */
export const WEB_HOST = '127.0.0.1';
export const DEFAULT_WEB_PORT = 4178;
/** Where the built app is, from apps/cli/src or apps/cli/dist alike. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.yaml': 'text/yaml; charset=utf-8',
  '.map': 'application/json', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8',
};

export interface WebServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Is `path` inside `root` (or the root itself)? Both absolute and resolved. */
export function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The file a request path names under `root`, or the HTTP status that refuses it. */
export async function resolveRequest(root: string, urlPath: string): Promise<{ file: string } | { status: 400 | 403 | 404 }> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return { status: 400 };
  }
  if (path.includes('\0')) return { status: 400 };
  // Checked before and after resolution: "/../x" must not become "/x" silently.
  if (path.split(/[\\/]/).includes('..')) return { status: 403 };
  let file = resolve(join(root, path));
  if (!inside(root, file)) return { status: 403 };
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    const real = await realpath(file);
    if (!inside(await realpath(root), real)) return { status: 403 };
    if (!(await stat(real)).isFile()) return { status: 404 };
    return { file: real };
  } catch {
    return { status: 404 };
  }
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${status} ${text}\n`);
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, 'method not allowed');
    return;
  }
  const r = await resolveRequest(root, req.url ?? '/');
  if ('status' in r) {
    send(res, r.status, r.status === 403 ? 'forbidden: outside the app' : r.status === 400 ? 'bad request' : 'not found');
    return;
  }
  const size = (await stat(r.file)).size;
  res.writeHead(200, {
    'content-type': TYPES[extname(r.file).toLowerCase()] ?? 'application/octet-stream', 'content-length': size,
    'x-content-type-options': 'nosniff', 'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(r.file).on('error', () => res.destroy()).pipe(res);
}

/** Serve `root` on 127.0.0.1:`port` (0: any free port). Rejects with the listen error (EADDRINUSE ...). */
export async function startWebServer(root: string, port: number): Promise<WebServer> {
  const absRoot = resolve(root);
  const server = createServer((req, res) => {
    handle(absRoot, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, WEB_HOST, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    url: `http://${WEB_HOST}:${bound}/`, port: bound, server,
    close: () => new Promise<void>((ok) => {
      server.close(() => { ok(); });
      server.closeAllConnections();
    }),
  };
}

export type WebOptions = Record<string, boolean | string | undefined>;

/** The port option: 0 to 65535 (0 picks a free port); a string saying why not otherwise. */
export function parsePort(v: string | undefined): number | string {
  if (v === undefined) return DEFAULT_WEB_PORT;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) return `--port takes 0 to 65535 (0: any free port); got "${v}"`;
  return Number(v);
}

/**
 * Run the command: serve until `stop` aborts, or SIGINT/SIGTERM when no signal is given.
 * Returns the exit status.
 */
export async function runWeb(opts: WebOptions, out: (s: string) => void, err: (s: string) => void, stop?: AbortSignal): Promise<number> {
  const port = parsePort(typeof opts.port === 'string' ? opts.port : undefined);
  if (typeof port === 'string') {
    err(`polykernel web: ${port}`);
    return EXIT.usage;
  }
  const root = typeof opts.dir === 'string' ? resolve(opts.dir) : DEFAULT_WEB_ROOT;
  const index = await stat(join(root, 'index.html')).catch(() => null);
  if (index?.isFile() !== true) {
    err(`polykernel web: the app is not built: ${join(root, 'index.html')} is missing (build it with: npx nx build @polykernel/web)`);
    return EXIT.failure;
  }
  let web: WebServer;
  try {
    web = await startWebServer(root, port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err(`polykernel web: cannot listen on ${WEB_HOST}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use (choose another with --port, or 0 for any free port)' : (e as Error).message}`);
    return EXIT.failure;
  }
  out(`polykernel web: serving ${root} at ${web.url} (loopback only; Ctrl-C stops it)`);
  await new Promise<void>((done) => {
    if (stop !== undefined) {
      if (stop.aborted) done();
      else stop.addEventListener('abort', () => { done(); }, { once: true });
      return;
    }
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      done();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await web.close();
  out('polykernel web: stopped');
  return EXIT.ok;
}

/// <reference lib="webworker" />
// The engine runs here, off the page's thread: the page only renders what comes back.
import { Engine } from './engine/engine.js';
import type { Reply, Request } from './engine/protocol.js';
import { allVariants } from './engine/registry.js';

const engine = new Engine();
const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<Request>): void => {
  scope.postMessage(engine.handle(e.data));
};
const ready: Reply = { type: 'ready', variants: allVariants() };
scope.postMessage(ready);

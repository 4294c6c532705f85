/// <reference lib="webworker" />
// The engine runs here, off the page's thread: the page only renders what comes back.
import { Engine } from './engine/engine.js';
import type { Reply, Request } from './engine/protocol.js';
import { allVariants } from './engine/registry.js';

const engine = new Engine();
const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<Request>): void => {
  // Replies keep the requests' order: handling one awaits nothing outside the worker (see Engine.handle).
  void engine.handle(e.data).then((reply) => {
    scope.postMessage(reply);
  });
};
const ready: Reply = { type: 'ready', variants: allVariants() };
scope.postMessage(ready);

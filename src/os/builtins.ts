/**
 * Node built-ins that only some commands need, loaded on first use so that the others
 * start faster (node:http alone costs ~6 ms). require(), not import(): the CLI runs as one
 * bundled script from a V8 code cache, where import() of a built-in is not available.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** node:http, loaded on first call. */
export const lazyHttp = (): typeof import('node:http') => load('node:http') as typeof import('node:http');
/** node:net, loaded on first call. */
export const lazyNet = (): typeof import('node:net') => load('node:net') as typeof import('node:net');
/** node:dgram, loaded on first call. */
export const lazyDgram = (): typeof import('node:dgram') => load('node:dgram') as typeof import('node:dgram');

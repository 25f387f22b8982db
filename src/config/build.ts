/** Defaults of monitor.yaml that are not obvious from the schema. */
export const DEFAULT_EVERY_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_LISTEN = '127.0.0.1:2001';
export const DEFAULT_RETENTION = ['10s:1d', '1m:30d', '1h:1y'];

/** parseListen splits host:port ([v6]:port allowed); an empty host means 127.0.0.1. */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  let host = listen.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host === '' ? '127.0.0.1' : host, port: Number(listen.slice(i + 1)) };
}

/** deepFreeze freezes an object graph, so the engine cannot change the config it was given. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

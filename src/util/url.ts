/** redactUrl drops a password from a URL (redis://, http://) for messages and status pages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/i;

/** isLoopback tells whether a listen host only accepts local connections. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

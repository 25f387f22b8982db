/**
 * OneConnection keeps a driver's one connection: opened on first use (callers that come
 * while it opens share the attempt; a failed attempt is not kept, so the next use tries
 * again), and forgotten by take(), which hands it over to be closed.
 */
export class OneConnection<C> {
  private conn?: C;
  private opening?: Promise<C>;

  constructor(private readonly open: () => Promise<C>) {}

  /** current is the open connection, if there is one (what a cancel aims at). */
  get current(): C | undefined {
    return this.conn;
  }

  get(): Promise<C> {
    if (this.conn) return Promise.resolve(this.conn);
    this.opening ??= this.open()
      .then((c) => (this.conn = c))
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  /** take forgets the connection and hands it over (to be closed). */
  take(): C | undefined {
    const c = this.conn;
    this.conn = undefined;
    return c;
  }
}

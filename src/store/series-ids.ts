/**
 * Series ids: every series name a producer asks for gets a small number for the life of the
 * process, the same for the same name. A sample that carries its id (Sample.id) lets a store
 * find its series with an array index instead of hashing and comparing the name in a map of
 * every series (at 100,000 blocks that map lookup was an eighth of a run's CPU). Ids only
 * grow: they number names, not series a store keeps, so a store may see an id it has never
 * seen, and must then look the name up once.
 */
const ids = new Map<string, number>();

/** seriesId is the name's id in this process (made on first asking). */
export function seriesId(name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    id = ids.size;
    ids.set(name, id);
  }
  return id;
}

/**
 * ById is a store's index from series id to its own series object: a dense array, filled
 * with undefined up to the highest id it holds so that it never turns into a dictionary.
 */
export class ById<T> {
  private readonly items: Array<T | undefined> = [];

  get(id: number): T | undefined {
    return this.items[id];
  }

  set(id: number, item: T): void {
    const items = this.items;
    while (items.length < id) items.push(undefined);
    items[id] = item;
  }
}

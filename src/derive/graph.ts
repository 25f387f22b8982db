/**
 * The dependency graph of derived series: which derived series each one reads. Loops are
 * config errors (found by findLoops); the running node evaluates in topological order.
 */

/** Edges gives the nodes a node depends on (reads). */
export type Edges = (node: string) => readonly string[];

/**
 * components are the strongly connected components of the graph (Tarjan's algorithm,
 * without recursion, so a long chain of derived series cannot overflow the stack), each
 * listed in the order found; a component comes after every component it depends on.
 */
export function components(nodes: readonly string[], edges: Edges): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; succ: readonly string[]; i: number }> = [];
    const open = (n: string): void => {
      index.set(n, next);
      low.set(n, next++);
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, succ: edges(n), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      if (top.i < top.succ.length) {
        const s = top.succ[top.i++];
        if (!index.has(s)) open(s);
        else if (onStack.has(s)) low.set(top.node, Math.min(low.get(top.node)!, index.get(s)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const comp: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          comp.push(n);
        } while (n !== top.node);
        out.push(comp.reverse());
      }
    }
  }
  return out;
}

/**
 * findLoops returns, for each node on a loop, the shortest loop through it, from it back
 * to it: `a → b → a` is ['a', 'b', 'a']; a node that reads itself is ['a', 'a'].
 */
export function findLoops(nodes: readonly string[], edges: Edges): Map<string, string[]> {
  const loops = new Map<string, string[]>();
  for (const comp of components(nodes, edges)) {
    const members = new Set(comp);
    if (comp.length === 1 && !edges(comp[0]).includes(comp[0])) continue;
    for (const start of comp) {
      // Breadth first within the component, from start's successors back to start.
      const from = new Map<string, string>();
      const queue = [start];
      for (let q = 0; q < queue.length && !from.has(start); q++) {
        for (const s of edges(queue[q])) {
          if (!members.has(s) || from.has(s)) continue;
          from.set(s, queue[q]);
          queue.push(s);
        }
      }
      const path = [start];
      for (let n = from.get(start)!; n !== start; n = from.get(n)!) path.push(n);
      path.push(start);
      loops.set(start, [start, ...path.slice(1, -1).reverse(), start]);
    }
  }
  return loops;
}

/** topological orders acyclic nodes so that each comes after the nodes it reads (input order kept where free). */
export function topological(nodes: readonly string[], edges: Edges): string[] {
  return components(nodes, edges).flat();
}

/**
 * profileShares runs fn under V8's CPU profiler (node:inspector, in this process) and
 * says where its time went: the share of samples whose own code is in each category
 * (first match wins), the rest as "other JavaScript".
 */
import { Session } from 'node:inspector';

/** Category names a share of a profile: a frame is in it when test says so; an ignored one counts in no share (the profiler's own work). */
export interface Category {
  name: string;
  test: (functionName: string, url: string) => boolean;
  ignore?: boolean;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

export async function profileShares(fn: () => Promise<void>, categories: Category[]): Promise<Array<[string, number]>> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
    await post(session, 'Profiler.start');
    await fn();
    const { profile } = await post<{ profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } }>(session, 'Profiler.stop');
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const time = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const f = byId.get(id)!;
      if (f.functionName === '(idle)') return;
      const dt = profile.timeDeltas[i];
      const c = categories.find((x) => x.test(f.functionName, f.url));
      if (c?.ignore) return;
      const name = c?.name ?? 'other JavaScript';
      time.set(name, (time.get(name) ?? 0) + dt);
      total += dt;
    });
    return [...time.entries()].sort((a, b) => b[1] - a[1]).map(([name, t]) => [name, t / total]);
  } finally {
    session.disconnect();
  }
}

/**
 * Nodes that know each other (`peers:`) as child processes on loopback (`remon run`), for
 * the federation and quorum tests: each has a token (its peers read it from an environment
 * variable, as ${VAR}), a memory store, its own blocks and YAML, and every other node as a
 * peer read every 300 ms.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, tmpDir } from './helpers';
import { RemonNode } from './remon-node';

/** FedNode is one node of a set: its name, URL, folder and process. */
export interface FedNode {
  name: string;
  url: string;
  dir: string;
  token: string;
  proc: RemonNode;
}

/** FedSpec: per node, its blocks (YAML list items) and more YAML (slas:, ...). */
export interface FedSpec {
  name: string;
  blocks?: string;
  yaml?: string;
}

/** startNodes starts the nodes, each with the others as peers; stop them with stopNodes. */
export async function startNodes(specs: FedSpec[], o: { env?: Record<string, string> } = {}): Promise<FedNode[]> {
  const ports = await Promise.all(specs.map(() => freePort()));
  const nodes = specs.map((s, i): Omit<FedNode, 'proc'> => ({ name: s.name, url: `http://127.0.0.1:${ports[i]}`, dir: tmpDir(`remon-fed-${s.name}-`), token: `tok-${s.name}` }));
  for (const n of nodes) process.env[`REMON_TEST_TOKEN_${n.name.toUpperCase()}`] = n.token;
  Object.assign(process.env, o.env ?? {});
  const out: FedNode[] = [];
  for (const [i, s] of specs.entries()) {
    const n = nodes[i];
    const peers = nodes.filter((p) => p.name !== n.name)
      .map((p) => `  ${p.name}: { url: "${p.url}", token: "\${REMON_TEST_TOKEN_${p.name.toUpperCase()}}", every: 300ms, timeout: 1s }`).join('\n');
    const text = `node: { name: ${n.name}, data: ${path.join(n.dir, 'data')}, listen: "127.0.0.1:${ports[i]}", token: ${n.token} }\n` +
      `storage: { kind: memory }\npeers:\n${peers}\nblocks:\n${s.blocks ?? '  - { name: local, type: shell, every: 1s, command: "true" }'}\n${s.yaml ?? ''}`;
    const file = path.join(n.dir, 'monitor.yaml');
    fs.writeFileSync(file, text);
    out.push({ ...n, proc: new RemonNode(file, n.url) });
  }
  // One after the other: three node processes loading at once on a busy 2-core machine can take over 10 s.
  for (const n of out) await n.proc.start();
  return out;
}

/** stopNodes stops every node still running. */
export async function stopNodes(nodes: FedNode[] | undefined): Promise<void> {
  await Promise.all((nodes ?? []).map((n) => n.proc.kill('SIGTERM').catch(() => undefined)));
}

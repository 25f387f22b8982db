/**
 * The load of the RPC benchmark, in its own process (as a peer node is):
 * `node rpc-load.js URL MODE SECONDS CONCURRENCY TOKEN`. MODE is `echo` (POST /echo, the
 * bare express route, by the client's own postText), `bare` (POST /bare, the same without express), `http` (POST /rpc through RpcClient) or `ws` (the WebSocket session,
 * CONCURRENCY calls pipelined). Warms up for 300 ms, then counts answered calls for
 * SECONDS and prints the calls per second.
 */
import { performance } from 'node:perf_hooks';
import { postText, RpcClient } from '../src/rpc/client';

const [url, mode, secondsArg, concurrencyArg, token] = process.argv.slice(2);
const SECONDS = Number(secondsArg);
const CONCURRENCY = Number(concurrencyArg);
const BODY = '{"jsonrpc":"2.0","id":1,"method":"node.health","params":{}}';

async function main(): Promise<void> {
  const client = new RpcClient({ url, token });
  const session = mode === 'ws' ? client.session({ inFlight: CONCURRENCY }) : undefined;
  await session?.opened();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const once: () => Promise<unknown> = mode === 'echo' || mode === 'bare'
    ? async () => {
      const res = await postText(url, `/${mode}`, BODY, headers, 10_000);
      const a = JSON.parse(res.text) as { method?: string };
      if (a.method !== 'node.health') throw new Error('bad echo');
    }
    : mode === 'http' ? () => client.call('node.health') : () => session!.call('node.health');
  let counting = false;
  let calls = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      await once();
      if (counting) calls++;
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await new Promise((r) => setTimeout(r, 300));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  session?.close();
  console.log(Math.round(calls / elapsed));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * requirePeer guards a suite that needs a real peer (rrdtool, redis-server, snmpd, ...).
 * When the peer is missing the suite fails under REMON_REQUIRE_INTEGRATION=1 (CI sets it),
 * and is skipped with a loud reason otherwise.
 */
export function requirePeer(ctx: Mocha.Context, name: string, present: boolean, install: string): void {
  if (present) return;
  const why = `${name} is not installed (${install})`;
  if (process.env.REMON_REQUIRE_INTEGRATION === '1') throw new Error(`${why}; REMON_REQUIRE_INTEGRATION=1 requires it`);
  console.warn(`\n  !!! SKIPPED: ${why}\n`);
  ctx.skip();
}

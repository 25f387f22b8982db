import type { Bus, NodeEvent } from '../bus';
import type { Sample } from '../store/store';
import { formatDuration } from '../util/duration';
import type { SlaSetOptions } from './set';
import type { Sla } from './sla';
import { SlaSpec, Transition } from './types';

/** roughly renders a span to the second: 61234 → 1m1s. */
const roughly = (ms: number): string => formatDuration(Math.max(0, Math.round(ms / 1000) * 1000));

/**
 * transitionMessage is a state change as one line for a person, with the values the test
 * saw: `homepage-fast firing: homepage.fast_ratio (0.65) >= 0.8 failed for 1m`.
 */
export function transitionMessage(tr: Transition, spec: SlaSpec): string {
  let body = tr.message;
  const was = tr.from === 'firing' ? `was firing for ${roughly(tr.at - tr.previousSince)}` : '';
  const noData = (as: string): string => (tr.noData ? `; no data counts as ${as}` : '');
  switch (tr.to) {
    case 'firing':
      if (tr.escalatedFrom) body += `; worse than the ${tr.escalatedFrom} burn it fired with`;
      if (!tr.burn) body += (tr.failingForMs ?? 0) > 0 ? ` failed for ${roughly(tr.failingForMs!)}` : ' failed';
      body += noData('failing');
      if (tr.cooldownSince !== undefined) {
        body += `; not notified again within the ${roughly(spec.cooldownMs ?? 0)} cooldown (last notified ${roughly(tr.at - tr.cooldownSince)} ago)`;
      }
      break;
    case 'pending':
      if (!tr.burn) body += ' failed';
      body += `${noData('failing')}; fires if it still fails ${roughly(spec.forMs ?? 0)} after it began`;
      break;
    case 'ok':
      if (!spec.objective) body += tr.from === 'pending' || tr.from === 'firing' ? ' passes again' : ' passes';
      body += noData('ok');
      if (was) body += ` (${was})`;
      break;
    default:
      if (was) body += `; ${was}`;
  }
  if (tr.backfilled) body += ` (missed slot at ${new Date(tr.at).toISOString()}, from stored data)`;
  return `${tr.sla} ${tr.to}: ${body}`;
}

/**
 * transitionEvent is the NodeEvent a state change is published as (`sla.state`; the
 * contract with the alerts is /work/notes/sla-event.md): data holds from, to, since,
 * notify, severity (default page), labels, escalate, depends_on, value (null: unknown),
 * burn (objective SLAs), and cause (evaluation, for, keep_firing_for, window, removed,
 * burn). An objective SLA firing whose burn gets more severe sends firing → firing with
 * escalated_from (the burn it fired with) and since (when the firing began).
 */
export function transitionEvent(tr: Transition, spec: SlaSpec): NodeEvent {
  const data: Record<string, unknown> = {
    from: tr.from,
    to: tr.to,
    since: tr.from === tr.to ? tr.previousSince : tr.at,
    notify: tr.notify,
    severity: spec.severity ?? 'page',
    labels: { ...spec.labels },
    depends_on: [...(spec.dependsOn ?? [])],
    value: tr.value ?? null,
    cause: tr.cause,
  };
  if (spec.escalate !== undefined) data.escalate = spec.escalate;
  if (tr.burn !== undefined) data.burn = tr.burn;
  if (tr.escalatedFrom !== undefined) data.escalated_from = tr.escalatedFrom;
  if (tr.backfilled) data.backfilled = true;
  return { kind: 'sla.state', subject: tr.sla, at: tr.at, message: transitionMessage(tr, spec), data };
}

/**
 * slaHeartbeat is the "unknown after" hint (s) of an SLA's samples: two of its periods
 * (the longer of the sample period and its re-check); a slots SLA holds its state from
 * slot to slot, so its samples hold for up to two days, as a passive block's.
 */
function slaHeartbeat(spec: SlaSpec, sampleEveryMs: number): number {
  if (spec.mode === 'slots') return 172_800;
  return Math.max(1, Math.ceil((2 * Math.max(sampleEveryMs, spec.everyMs ?? 0)) / 1000));
}

/**
 * slaSamples are an SLA's own series at `at`: `sla.<name>.ok` (1 ok, 0 pending or firing,
 * absent while unknown or inactive) and, with an objective, `sla.<name>.budget_remaining`;
 * with their heartbeat hint when the set's sample period is given.
 */
export function slaSamples(sla: Sla, at: number, sampleEveryMs?: number): Sample[] {
  const out: Sample[] = [];
  const s = sla.state;
  const heartbeat = sampleEveryMs === undefined ? undefined : slaHeartbeat(sla.spec, sampleEveryMs);
  const sample = (series: string, value: number): Sample => (heartbeat === undefined ? { series, t: at, value, kind: 'gauge' } : { series, t: at, value, kind: 'gauge', heartbeat });
  if (s === 'ok' || s === 'pending' || s === 'firing') out.push(sample(`sla.${sla.name}.ok`, s === 'ok' ? 1 : 0));
  const budget = sla.slo?.budgetRemaining();
  if (budget !== undefined) out.push(sample(`sla.${sla.name}.budget_remaining`, budget));
  return out;
}

/**
 * publishTo is the SlaSet callbacks that put an SLA's state changes (the event with its
 * samples) and its periodic samples on the bus; with the set's sample period, the samples
 * carry their heartbeat hint.
 */
export function publishTo(bus: Bus, sampleEveryMs?: number): Required<Pick<SlaSetOptions, 'onTransition' | 'onSample'>> {
  return {
    onTransition: (tr, sla) => bus.publish({ samples: slaSamples(sla, tr.at, sampleEveryMs), event: transitionEvent(tr, sla.spec) }),
    onSample: (sla, at) => {
      const samples = slaSamples(sla, at, sampleEveryMs);
      if (samples.length > 0) bus.publish({ samples });
    },
  };
}

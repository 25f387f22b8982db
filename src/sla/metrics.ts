import { Collector, escapeLabel as esc, metricFamily } from '../web/routes/metrics';
import type { SlaRunner } from './runner';
import type { SlaState } from './types';

const STATES: readonly SlaState[] = ['ok', 'pending', 'firing', 'unknown', 'inactive'];

/**
 * slaMetrics: each SLA's state as remon_sla_state{sla,state} (1 for the state it is in, 0
 * for the others), since when, its evaluations, transitions and failed evaluations, the
 * error budget left of objective SLAs; and the set's own failures and the feed's drops.
 */
export function slaMetrics(runner: SlaRunner): Collector {
  return () => {
    const state: string[] = [];
    const since: string[] = [];
    const evals: string[] = [];
    const transitions: string[] = [];
    const errors: string[] = [];
    const budget: string[] = [];
    for (const { status: s } of runner.list()) {
      const sla = `sla="${esc(s.name)}"`;
      for (const st of STATES) state.push(`remon_sla_state{${sla},state="${st}"} ${s.state === st ? 1 : 0}`);
      since.push(`remon_sla_state_since_seconds{${sla}} ${s.since / 1000}`);
      evals.push(`remon_sla_evaluations_total{${sla}} ${s.stats.evaluations}`);
      transitions.push(`remon_sla_transitions_total{${sla}} ${s.stats.transitions}`);
      errors.push(`remon_sla_errors_total{${sla}} ${s.stats.errors}`);
      if (s.budgetRemaining !== undefined) budget.push(`remon_sla_budget_remaining{${sla}} ${s.budgetRemaining}`);
    }
    const t = runner.set.stats();
    return [
      ...metricFamily('remon_sla_state', 'gauge', 'Each SLA\'s state: 1 for the one it is in (ok, pending, firing, unknown, inactive), 0 for the others.', state),
      ...metricFamily('remon_sla_state_since_seconds', 'gauge', 'When the SLA entered its state (Unix time).', since),
      ...metricFamily('remon_sla_evaluations_total', 'counter', 'Evaluations of the SLA\'s test.', evals),
      ...metricFamily('remon_sla_transitions_total', 'counter', 'State changes of the SLA.', transitions),
      ...metricFamily('remon_sla_errors_total', 'counter', 'Evaluations that failed (counted as unknown).', errors),
      ...metricFamily('remon_sla_budget_remaining', 'gauge', 'Error budget left of an objective SLA (1 all, 0 none, negative overspent).', budget),
      ...metricFamily('remon_sla_backfilled_slots_total', 'counter', 'Slots missed while the node was down, evaluated from stored series.', [`remon_sla_backfilled_slots_total ${t.backfilled}`]),
      ...metricFamily('remon_sla_skipped_slots_total', 'counter', 'Missed slots not evaluated (no stored data to use, or beyond the bound).', [`remon_sla_skipped_slots_total ${t.skipped}`]),
      ...metricFamily('remon_sla_failures_total', 'counter', 'Failures of the SLAs\' own work: backfills, rebuilds, SLA log writes, callbacks.', [
        `remon_sla_failures_total{what="backfill"} ${t.backfillFailures}`,
        `remon_sla_failures_total{what="rebuild"} ${t.rebuildFailures}`,
        `remon_sla_failures_total{what="persist"} ${t.persistFailures}`,
        `remon_sla_failures_total{what="callback"} ${t.callbackFailures}`,
      ]),
      ...metricFamily('remon_sla_dropped_total', 'counter', 'Bus messages the SLA tests did not see (too many held while windows were read back).', [`remon_sla_dropped_total ${runner.feed.dropped}`]),
    ];
  };
}

import type { EscalationConfig, Target } from './config';
import type { Alert } from './types';

/** PlannedStep is an escalation level due at a time in the alert's current run. */
export interface PlannedStep {
  key: string;
  /** 1-based level. */
  level: number;
  /** 0 for the first pass, 1.. for repeats. */
  cycle: number;
  at: number;
  targets: Target[];
}

/**
 * plan lists the steps of an alert's current escalation run in time order: each level at
 * runAt + its `after`, then, `repeat` times, the whole list again one cycle later (a cycle
 * lasts to the last level plus repeat_after).
 */
export function plan(alert: Pick<Alert, 'id' | 'run' | 'runAt'>, e: EscalationConfig): PlannedStep[] {
  const out: PlannedStep[] = [];
  const cycleMs = e.levels[e.levels.length - 1].afterMs + e.repeatAfterMs;
  for (let cycle = 0; cycle <= e.repeat; cycle++) {
    e.levels.forEach((l, i) => {
      out.push({ key: `${alert.id}:${alert.run}:${cycle}:${i + 1}`, level: i + 1, cycle, at: alert.runAt + cycle * cycleMs + l.afterMs, targets: l.notify });
    });
  }
  return out;
}

/** nextStep is the first step of the current run not dispatched yet, or undefined when the run is over. */
export function nextStep(alert: Alert, e: EscalationConfig): PlannedStep | undefined {
  const done = new Set(alert.steps.map((s) => s.key));
  return plan(alert, e).find((s) => !done.has(s.key));
}

export { EvalResult, TestEval, SlaState, NoData, SlaSpec, CronWindow, Objective, BurnAlert, Transition, Cause } from './types';
export { SlaSet, SlaSetOptions, SlaStatus, SetStats, Backfill, Rebuild, MAX_BACKFILL_SLOTS, specProblem } from './set';
export { Sla, SlaStats } from './sla';
export { transitionEvent, transitionMessage, slaSamples, publishTo } from './events';
export { DEFAULT_BURN_ALERTS, Slo } from './slo';
export { ActiveWindow, SlotSchedule } from './window';

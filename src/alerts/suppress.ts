import type { Matchers } from './config';
import type { Alert, Silence } from './types';

/** alertLabels are the labels silences match: the SLA's labels, plus sla, severity and source. */
export function alertLabels(a: Pick<Alert, 'labels' | 'sla' | 'severity' | 'source'>): Record<string, string> {
  return { ...a.labels, sla: a.sla, severity: a.severity, source: a.source };
}

/** matches tells whether every matcher has one of its values in labels. */
export function matches(m: Matchers, labels: Record<string, string>): boolean {
  for (const [name, values] of Object.entries(m)) {
    const v = labels[name];
    if (v === undefined || !values.includes(v)) return false;
  }
  return true;
}

/** silenceActive tells whether a silence applies at t. */
export function silenceActive(s: Silence, t: number): boolean {
  return s.expiredAt === undefined && (s.from === undefined || s.from <= t) && t < s.until;
}

/** describeMatch words matchers: "team=web sla=a|b". */
export function describeMatch(m: Matchers): string {
  return Object.entries(m).map(([k, v]) => `${k}=${v.join('|')}`).join(' ');
}

/**
 * Suppression says why an alert is not to be told now, or undefined: a silence matching
 * its labels, or an SLA it depends on firing (the gateway is down, so the forty hosts
 * behind it are not paged).
 */
export function suppression(a: Alert, silences: Iterable<Silence>, firingSlas: { has(name: string): boolean }, t: number): string | undefined {
  for (const dep of a.dependsOn) if (firingSlas.has(dep)) return `inhibited: ${dep} is firing (depends_on)`;
  const labels = alertLabels(a);
  for (const s of silences) {
    if (silenceActive(s, t) && matches(s.match, labels)) return `silenced by ${s.id} (${describeMatch(s.match)}) until ${new Date(s.until).toISOString()}${s.comment ? `: ${s.comment}` : ''}`;
  }
  return undefined;
}

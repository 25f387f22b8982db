import { parse, SCALAR_FUNCTION_NAMES } from '../expr';
import { Step } from './types';

/** StepIssue is a problem in a pipe step: the path below the step list and what is wrong. */
export interface StepIssue {
  path: Array<string | number>;
  message: string;
  /** For expression errors: the 0-based column inside the expression text. */
  exprPos?: number;
}

const ACTIONS = ['if', 'set', 'increment', 'queue', 'run'] as const;

/**
 * compileSteps turns a `pipe:` list (already schema-checked) into Steps, reporting steps
 * that name two actions and expressions that do not parse. `path` is where the list is.
 */
export function compileSteps(raw: unknown, path: Array<string | number>, issues: StepIssue[]): Step[] {
  if (!Array.isArray(raw)) return [];
  const steps: Step[] = [];
  raw.forEach((item, i) => {
    const at = [...path, i];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return;
    const s = item as Record<string, unknown>;
    const actions = ACTIONS.filter((a) => a in s);
    if (actions.length !== 1) {
      if (actions.length > 1) {
        const [first, ...rest] = actions;
        const hint = first === 'if' ? `; put ${rest.join(', ')} under then:` : '; write each action as its own step';
        issues.push({ path: at, message: `a step has one action, found ${actions.join(' and ')}${hint}` });
      }
      return;
    }
    const step = compileOne(actions[0], s, at, issues);
    if (step) steps.push(step);
  });
  return steps;
}

function expression(src: unknown, at: Array<string | number>, issues: StepIssue[]) {
  if (typeof src !== 'string') return undefined;
  try {
    return parse(src, { functions: SCALAR_FUNCTION_NAMES });
  } catch (err) {
    // The position in the file shows where; the reason alone says what.
    const e = err as Error & { pos?: number; reason?: string };
    issues.push({ path: at, message: e.reason ?? e.message, exprPos: e.pos });
    return undefined;
  }
}

function compileOne(action: (typeof ACTIONS)[number], s: Record<string, unknown>, at: Array<string | number>, issues: StepIssue[]): Step | undefined {
  switch (action) {
    case 'if': {
      const cond = expression(s.if, [...at, 'if'], issues);
      const then = compileSteps(s.then, [...at, 'then'], issues);
      const otherwise = compileSteps(s.else, [...at, 'else'], issues);
      return cond ? { kind: 'if', source: s.if as string, cond, then, else: otherwise } : undefined;
    }
    case 'set': {
      if (typeof s.set === 'string') return { kind: 'set', bucket: 'default', key: s.set };
      const o = s.set as { key?: string; bucket?: string; value?: string };
      if (typeof o?.key !== 'string') return undefined;
      const value = o.value === undefined ? undefined : expression(o.value, [...at, 'set', 'value'], issues);
      if (o.value !== undefined && !value) return undefined;
      return { kind: 'set', bucket: o.bucket ?? 'default', key: o.key, value, source: o.value };
    }
    case 'increment': {
      if (typeof s.increment === 'string') return { kind: 'increment', counter: s.increment, by: 1 };
      const o = s.increment as { counter?: string; by?: number };
      return typeof o?.counter === 'string' ? { kind: 'increment', counter: o.counter, by: o.by ?? 1 } : undefined;
    }
    case 'queue': {
      if (typeof s.queue === 'string') return { kind: 'queue', queue: s.queue };
      const o = s.queue as { queue?: string; max_length?: number };
      return typeof o?.queue === 'string' ? { kind: 'queue', queue: o.queue, maxLength: o.max_length } : undefined;
    }
    case 'run':
      return typeof s.run === 'string' ? { kind: 'run', block: s.run } : undefined;
  }
}

/** runTargets lists the blocks a step list feeds, with the path of each run step. */
export function runTargets(raw: unknown, path: Array<string | number>): Array<{ block: string; path: Array<string | number> }> {
  const out: Array<{ block: string; path: Array<string | number> }> = [];
  const walk = (list: unknown, at: Array<string | number>): void => {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (typeof item !== 'object' || item === null) return;
      const s = item as Record<string, unknown>;
      if (typeof s.run === 'string') out.push({ block: s.run, path: [...at, i, 'run'] });
      walk(s.then, [...at, i, 'then']);
      walk(s.else, [...at, i, 'else']);
    });
  };
  walk(raw, path);
  return out;
}

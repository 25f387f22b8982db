import { JsonSchema } from '../engine/block';
import { parse, SCALAR_FUNCTION_NAMES } from '../expr';
import { parseDuration } from '../util/duration';
import { blockName, duration, KEY_PATTERN, sharedKey } from './schema';
import type { SectionIssue } from './section';
import { Step } from './types';

/** The pipe step forms; compileSteps checks that each has one action. */
const step: JsonSchema = {
  type: 'object',
  description: 'One pipe step: if/then/else, set, increment, queue, run, lock or with-lock.',
  'x-expected': 'a step (a mapping with one of if, set, increment, queue, run, lock, with-lock)',
  minProperties: 1,
  additionalProperties: false,
  dependencies: { then: ['if'], else: ['if'], if: ['then'] },
  properties: {
    if: { type: 'string', minLength: 1, 'x-expected': 'a condition over the result fields, e.g. "up == 0"' },
    then: { $ref: '#/definitions/steps' },
    else: { $ref: '#/definitions/steps' },
    set: {
      description: 'Put a value in shared state: `set: KEY` stores the result; `{key, bucket, value}` stores an expression.',
      type: ['string', 'object'],
      pattern: KEY_PATTERN,
      'x-expected': 'a state key, or a mapping with key and optional bucket and value',
      additionalProperties: false,
      required: ['key'],
      properties: {
        key: sharedKey('state key'),
        bucket: sharedKey('bucket'),
        value: { type: 'string', minLength: 1, 'x-expected': 'an expression over the result fields' },
      },
    },
    increment: {
      description: 'Add to a shared counter: `increment: NAME` or `{counter, by}`.',
      type: ['string', 'object'],
      pattern: KEY_PATTERN,
      'x-expected': 'a counter name, or a mapping with counter and by',
      additionalProperties: false,
      required: ['counter'],
      properties: { counter: sharedKey('counter'), by: { type: 'integer', 'x-expected': 'a whole number (counters are integers)' } },
    },
    queue: {
      description: 'Push the result to a shared queue: `queue: NAME` or `{queue, max_length, max_age}`.',
      type: ['string', 'object'],
      pattern: KEY_PATTERN,
      'x-expected': 'a queue name, or a mapping with queue and optional max_length and max_age',
      additionalProperties: false,
      required: ['queue'],
      properties: { queue: sharedKey('queue'), max_length: { type: 'integer', minimum: 1 }, max_age: duration },
    },
    run: { ...blockName, description: 'Run another block with this result as its input.', 'x-expected': 'the name of another block' },
    lock: {
      description: 'Take a shared lock and keep it for ttl; the following steps run only when it was taken.',
      type: 'object',
      'x-expected': 'a mapping with name, ttl and optional wait',
      additionalProperties: false,
      required: ['name', 'ttl'],
      properties: { name: sharedKey('lock'), ttl: duration, wait: duration },
    },
    'with-lock': {
      description: 'Run steps while holding a shared lock, then release it.',
      type: 'object',
      'x-expected': 'a mapping with name, ttl, optional wait, and steps',
      additionalProperties: false,
      required: ['name', 'ttl', 'steps'],
      properties: { name: sharedKey('lock'), ttl: duration, wait: duration, steps: { $ref: '#/definitions/steps' } },
    },
  },
};

/** stepDefinitions are the schema definitions of pipe steps: a block's `pipe: { $ref: '#/definitions/steps' }`. */
export const stepDefinitions: Record<string, JsonSchema> = {
  step,
  steps: { type: 'array', items: { $ref: '#/definitions/step' }, 'x-expected': 'a list of steps, each starting with "- "' },
};

const ACTIONS = ['if', 'set', 'increment', 'queue', 'run', 'lock', 'with-lock'] as const;

/**
 * compileSteps turns a `pipe:` list (already schema-checked) into Steps, reporting steps
 * that name two actions and expressions that do not parse. `path` is where the list is.
 */
export function compileSteps(raw: unknown, path: Array<string | number>, issues: SectionIssue[]): Step[] {
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

function expression(src: unknown, at: Array<string | number>, issues: SectionIssue[]) {
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

function compileOne(action: (typeof ACTIONS)[number], s: Record<string, unknown>, at: Array<string | number>, issues: SectionIssue[]): Step | undefined {
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
      const o = s.queue as { queue?: string; max_length?: number; max_age?: string };
      if (typeof o?.queue !== 'string') return undefined;
      const maxAgeMs = typeof o.max_age === 'string' ? positiveDuration(o.max_age, [...at, 'queue', 'max_age'], issues) : undefined;
      return { kind: 'queue', queue: o.queue, maxLength: o.max_length, ...(maxAgeMs ? { maxAgeMs } : {}) };
    }
    case 'run':
      return typeof s.run === 'string' ? { kind: 'run', block: s.run } : undefined;
    case 'lock':
    case 'with-lock': {
      const o = s[action] as { name?: string; ttl?: string; wait?: string; steps?: unknown };
      if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || typeof o.ttl !== 'string') {
        if (action === 'with-lock') compileSteps(o?.steps, [...at, action, 'steps'], issues);
        return undefined;
      }
      const ttlMs = positiveDuration(o.ttl, [...at, action, 'ttl'], issues);
      const waitMs = typeof o.wait === 'string' ? parseDuration(o.wait) ?? 0 : 0;
      if (action === 'lock') return ttlMs ? { kind: 'lock', name: o.name, ttlMs, waitMs } : undefined;
      const steps = compileSteps(o.steps, [...at, action, 'steps'], issues);
      if (Array.isArray(o.steps) && o.steps.length === 0) issues.push({ path: [...at, action, 'steps'], message: 'must not be an empty list; give the steps to run while holding the lock' });
      return ttlMs ? { kind: 'with-lock', name: o.name, ttlMs, waitMs, steps } : undefined;
    }
  }
}

/** positiveDuration parses a schema-checked duration, reporting one of 0. */
function positiveDuration(text: string, at: Array<string | number>, issues: SectionIssue[]): number | undefined {
  const ms = parseDuration(text);
  if (ms === 0) issues.push({ path: at, message: `must be longer than 0s; got "${text}"` });
  return ms || undefined;
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
      const locked = s['with-lock'] as { steps?: unknown } | undefined;
      if (typeof locked === 'object' && locked !== null) walk(locked.steps, [...at, i, 'with-lock', 'steps']);
    });
  };
  walk(raw, path);
  return out;
}

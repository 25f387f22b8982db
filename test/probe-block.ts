import { BlockType } from '../src/engine/block';

/**
 * probeBlock is an in-process block type for engine tests: it reports `value`, can be
 * slow, fail, throw or ignore its abort signal, and records its runs and inputs.
 */
export interface ProbeOptions {
  name: string;
  value?: number;
  sleep_ms?: number;
  fail?: string;
  throw?: string;
  ignore_abort?: boolean;
}

export const probeLog: { runs: Record<string, number>; inputs: Record<string, unknown[]>; maxConcurrent: Record<string, number> } = {
  runs: {},
  inputs: {},
  maxConcurrent: {},
};
const running: Record<string, number> = {};

export const probeBlock: BlockType<ProbeOptions> = {
  type: 'probe',
  description: 'test probe',
  schema: {
    properties: {
      value: { type: 'number' },
      sleep_ms: { type: 'integer', minimum: 0 },
      fail: { type: 'string' },
      throw: { type: 'string' },
      ignore_abort: { type: 'boolean' },
    },
  },
  create(o) {
    return {
      async run(ctx) {
        const n = o.name;
        probeLog.runs[n] = (probeLog.runs[n] ?? 0) + 1;
        (probeLog.inputs[n] ??= []).push(ctx.input);
        running[n] = (running[n] ?? 0) + 1;
        probeLog.maxConcurrent[n] = Math.max(probeLog.maxConcurrent[n] ?? 0, running[n]);
        try {
          if (o.sleep_ms) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, o.sleep_ms);
              if (!o.ignore_abort) ctx.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); });
            });
          }
          if (o.throw) throw new Error(o.throw);
          const input = ctx.input?.fields.value;
          return { ok: !o.fail, message: o.fail, fields: { value: (o.value ?? 0) + (input ?? 0) } };
        } finally {
          running[n]--;
        }
      },
    };
  },
};

export function resetProbeLog(): void {
  probeLog.runs = {};
  probeLog.inputs = {};
  probeLog.maxConcurrent = {};
}

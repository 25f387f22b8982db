import { Liquid, Template } from 'liquidjs';

/**
 * Body templates of webhook contacts are Liquid (liquidjs): parsed and rendered by the
 * library, never evaluated as code. Every `{{ value }}` is escaped for a JSON string, so
 * a template written as JSON stays JSON whatever an alert's message holds; `| raw` skips
 * the escaping (`{{ alert | json | raw }}` puts the alert in as a JSON object).
 */
const liquid = new Liquid({
  outputEscape: (v: unknown) => JSON.stringify(String(v)).slice(1, -1),
  strictFilters: true,
  cache: false,
});

const parsed = new Map<string, Template[]>();

/** templateProblem tells why a body template does not parse, or undefined when it does. */
export function templateProblem(text: string): string | undefined {
  try {
    liquid.parse(text);
    return undefined;
  } catch (err) {
    return `the template does not parse: ${(err as Error).message}`;
  }
}

/** renderTemplate renders a body template with its context (parsed once per text). */
export function renderTemplate(text: string, context: Record<string, unknown>): string {
  let tpl = parsed.get(text);
  if (!tpl) {
    tpl = liquid.parse(text);
    if (parsed.size > 1000) parsed.clear();
    parsed.set(text, tpl);
  }
  return liquid.renderSync(tpl, context) as string;
}

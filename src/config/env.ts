import { Document, Scalar, visit } from 'yaml';

/** EnvProblem is a reference to an unset variable, at the scalar that holds it. */
export interface EnvProblem {
  node: Scalar;
  /** The scalar's value before expansion. */
  text: string;
  /** Offset of `${` within `text`. */
  offset: number;
  message: string;
}

const REF = /\$\$\{|\$\{([^}]*)\}/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * expandString replaces `${VAR}` and `${VAR:-default}` with environment values; `$${`
 * stands for a literal `${`. Unset variables without a default are reported.
 */
export function expandString(
  text: string,
  env: NodeJS.ProcessEnv,
  onProblem: (offset: number, message: string) => void,
): string {
  return text.replace(REF, (match, inner: string | undefined, offset: number) => {
    if (match === '$${') return '${';
    const body = inner ?? '';
    const sep = body.indexOf(':-');
    const name = sep >= 0 ? body.slice(0, sep) : body;
    if (!VAR_NAME.test(name)) {
      onProblem(offset, `"${match}" is not a valid variable reference; expected \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`);
      return match;
    }
    const value = env[name];
    if (value !== undefined && !(sep >= 0 && value === '')) return value;
    if (sep >= 0) return body.slice(sep + 2);
    onProblem(offset, `environment variable ${name} is not set; set it or write \${${name}:-default}`);
    return '';
  });
}

/** Expansion is what expandEnv did: the unset references, and each changed scalar's original text. */
export interface Expansion {
  problems: EnvProblem[];
  original: Map<Scalar, string>;
}

/**
 * expandEnv rewrites every string value of the document in place. A plain (unquoted)
 * scalar that was a variable reference takes the type of what it expands to, so
 * `port: ${PORT}` gives a number.
 */
export function expandEnv(doc: Document, env: NodeJS.ProcessEnv): Expansion {
  const problems: EnvProblem[] = [];
  const original = new Map<Scalar, string>();
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const before = node.value;
      const after = expandString(before, env, (offset, message) => problems.push({ node, text: before, offset, message }));
      if (after === before) return;
      original.set(node, before);
      node.value = node.type === Scalar.PLAIN ? retype(after) : after;
    },
  });
  return { problems, original };
}

/** retype gives an expanded plain scalar the type of what it expands to (a number, a boolean). */
export function retype(text: string): string | number | boolean | null {
  if (/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

// Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
// `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, nested defaults, and `$$` for a
// literal `$`. Only string values are interpolated, never keys, as Compose does.
import type { PathSegment, YamlPath } from "./path.js";

export type Lookup = (name: string) => string | undefined;

/** Why a template could not be expanded; the loader adds the file, line and path. */
export class InterpolationProblem extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

interface InterpolationContext {
  lookup: Lookup;
  /** Called for each variable used without a value or default (Compose warns and uses ""). */
  onUnset?: (name: string) => void;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/;

/** Index of the `}` closing the `{` at `open`, counting nested `${`; -1 when unterminated. */
function closingBrace(text: string, open: number): number {
  let depth = 1;
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (text[i] === "}" && --depth === 0) {
      return i;
    }
  }
  return -1;
}

function expandBraced(inner: string, context: InterpolationContext): string {
  const match = BRACED.exec(inner);
  if (!match) {
    throw new InterpolationProblem(
      `invalid interpolation \`\${${inner}}\``,
      `Write \${NAME}, \${NAME:-default}, \${NAME:?error}; use $$ for a literal $.`,
    );
  }
  const [, name, operator, argument = ""] = match as unknown as [string, string, string | undefined, string?];
  const value = context.lookup(name);
  const set = value !== undefined;
  const nonEmpty = set && value !== "";
  const required = (): never => {
    const reason = expandTemplate(argument, context);
    throw new InterpolationProblem(
      `required variable ${name} is missing a value${reason ? `: ${reason}` : ""}`,
      `Set ${name} in the environment or in the .env file.`,
    );
  };
  switch (operator) {
    case ":-":
      return nonEmpty ? value : expandTemplate(argument, context);
    case "-":
      return set ? value : expandTemplate(argument, context);
    case ":?":
      return nonEmpty ? value : required();
    case "?":
      return set ? value : required();
    case ":+":
      return nonEmpty ? expandTemplate(argument, context) : "";
    case "+":
      return set ? expandTemplate(argument, context) : "";
    default:
      if (set) return value;
      context.onUnset?.(name);
      return "";
  }
}

/** Expands one string; throws an InterpolationProblem for malformed templates and missing `?` variables. */
export function expandTemplate(text: string, context: InterpolationContext): string {
  if (!text.includes("$")) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char !== "$") {
      out += char;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "{") {
      const end = closingBrace(text, i + 1);
      if (end < 0) {
        throw new InterpolationProblem(
          `unterminated \`\${\` in interpolation`,
          "Close it with `}`, or write $$ for a literal $.",
        );
      }
      out += expandBraced(text.slice(i + 2, end), context);
      i = end + 1;
    } else {
      const name = NAME.exec(text.slice(i + 1))?.[0];
      if (!name) {
        throw new InterpolationProblem(
          `invalid interpolation: \`$\` must start a variable (\`$NAME\`, \`\${NAME}\`)`,
          "Write $$ for a literal $.",
        );
      }
      out += expandBraced(name, context);
      i += 1 + name.length;
    }
  }
  return out;
}

/**
 * Interpolates every string in a plain YAML value (a fresh copy is returned). `fail` turns a
 * problem at a path into the caller's error, so it can name the file and line.
 */
export function interpolateTree(
  value: unknown,
  context: InterpolationContext,
  fail: (problem: InterpolationProblem, path: YamlPath, value: string) => never,
  path: PathSegment[] = [],
): unknown {
  if (typeof value === "string") {
    try {
      return expandTemplate(value, context);
    } catch (error) {
      if (error instanceof InterpolationProblem) return fail(error, path, value);
      throw error;
    }
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolateTree(item, context, fail, [...path, index]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = interpolateTree(item, context, fail, [...path, key]);
    return out;
  }
  return value;
}

// `.env` and `env_file` files: `KEY=value` lines, `export KEY=value`, `#` comments, single quotes
// (literal), double quotes (escapes, interpolation), unquoted values (trimmed, ` #` ends them),
// and a bare `KEY` that takes its value from the environment.
import { expandTemplate, InterpolationProblem, type Lookup } from "./interpolate.js";

export class DotenvProblem extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

interface DotenvOptions {
  /** Variables the values may refer to (after those defined earlier in the file). */
  lookup?: Lookup;
  /** `raw`: values are taken as written, without quotes processing or interpolation. */
  raw?: boolean;
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:(=)\s?(.*))?$/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', $: "$$" };

function unquoteDouble(body: string): string {
  return body.replace(/\\(.)/g, (whole, char: string) => ESCAPES[char] ?? whole);
}

/** Parses dotenv text; a malformed line throws a DotenvProblem with its 1-based line number. */
export function parseDotenv(text: string, options: DotenvOptions = {}): Record<string, string> {
  const values: Record<string, string> = {};
  const lookup: Lookup = (name) => values[name] ?? options.lookup?.(name);
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const match = LINE.exec(line);
    if (!match) throw new DotenvProblem(`invalid line \`${line.trim()}\` (expected KEY=value)`, index + 1);
    const [, key, equals, rest = ""] = match as unknown as [string, string, string | undefined, string?];
    if (!equals) {
      const inherited = options.lookup?.(key);
      if (inherited !== undefined) values[key] = inherited;
      return;
    }
    if (options.raw) {
      values[key] = rest;
      return;
    }
    const trimmed = rest.trim();
    try {
      if (trimmed.startsWith("'")) {
        const end = trimmed.indexOf("'", 1);
        if (end < 0) throw new DotenvProblem(`unterminated single quote in \`${line.trim()}\``, index + 1);
        values[key] = trimmed.slice(1, end);
      } else if (trimmed.startsWith('"')) {
        const end = /^"((?:[^"\\]|\\.)*)"/.exec(trimmed);
        if (!end) throw new DotenvProblem(`unterminated double quote in \`${line.trim()}\``, index + 1);
        values[key] = expandTemplate(unquoteDouble(end[1]!), { lookup });
      } else {
        values[key] = expandTemplate(trimmed.replace(/\s+#.*$/, ""), { lookup });
      }
    } catch (error) {
      if (error instanceof InterpolationProblem) throw new DotenvProblem(error.message, index + 1);
      throw error;
    }
  });
  return values;
}

// The error every bad Compose input becomes: it names the file, line and column (when the YAML
// parser gives them), the path inside the file (`services.api.ports[1]`) and the bad value.
import { relative } from "node:path";
import { ConfigError } from "../../engine/errors.js";
import type { SourceLocation } from "../../model/compose.js";

export interface ComposeErrorDetails {
  /** Absolute path of the file the problem is in. */
  file?: string;
  line?: number;
  column?: number;
  /** Path inside the file, e.g. `services.api.ports[1]`; empty for the whole file. */
  path?: string;
  /** The offending value, as written (after interpolation). */
  value?: unknown;
  hint?: string;
  cause?: unknown;
}

/** Shows a value in a message: short, quoted, one line. */
function showValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  text = text.replace(/\n/g, "\\n");
  return `\`${text.length > 80 ? `${text.slice(0, 77)}...` : text}\``;
}

/** A file name as people want to read it: relative to the working directory when inside it. */
export function displayFile(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") ? rel : file;
}

export class ComposeError extends ConfigError {
  override readonly code = "BERTH_COMPOSE";
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;
  readonly value: unknown;
  /** The problem alone, without the location prefix. */
  readonly problem: string;

  constructor(problem: string, details: ComposeErrorDetails = {}) {
    const where = [
      details.file === undefined
        ? undefined
        : [displayFile(details.file), details.line, details.column].filter((p) => p !== undefined).join(":"),
      details.path || undefined,
    ].filter((p) => p !== undefined);
    const got = details.value === undefined ? "" : `, got ${showValue(details.value)}`;
    super(`${where.map((p) => `${p}: `).join("")}${problem}${got}`, {
      resource:
        details.file === undefined ? undefined : `${details.file}${details.path ? `#${details.path}` : ""}`,
      hint: details.hint,
      cause: details.cause,
    });
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.path = details.path;
    this.value = details.value;
    this.problem = problem;
  }

  /** Builds the error from a model location. */
  static at(
    location: SourceLocation,
    problem: string,
    extra: { value?: unknown; hint?: string; cause?: unknown } = {},
  ): ComposeError {
    return new ComposeError(problem, { ...location, ...extra });
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      file: this.file,
      line: this.line,
      column: this.column,
      path: this.path,
      value: this.value,
    };
  }
}

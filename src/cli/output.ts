// How the CLI reports: errors with their code and hint (or as JSON), and exit codes taken from
// the error classes (2 for configuration and usage errors).
import { BerthError } from "../engine/errors.js";
import { redactSecrets } from "../images/secrets.js";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function exitCodeFor(error: unknown): number {
  return error instanceof BerthError ? error.exitCode : EXIT.failure;
}

/** Errors as JSON, with any registry secret berth has read replaced by `***`. */
export function errorToJSON(error: unknown): Record<string, unknown> {
  const e = error as Error;
  const json =
    error instanceof BerthError
      ? error.toJSON()
      : { name: e?.name ?? "Error", code: "BERTH_INTERNAL", message: e?.message ?? String(error) };
  return JSON.parse(redactSecrets(JSON.stringify(json))) as Record<string, unknown>;
}

/** An error as the CLI prints it, with any registry secret berth has read replaced by `***`. */
export function formatError(error: unknown): string {
  return redactSecrets(describeError(error));
}

function describeError(error: unknown): string {
  if (error instanceof BerthError) {
    const lines = [`berth: ${error.message} [${error.code}]`];
    if (error.hint) lines.push(`  hint: ${error.hint}`);
    return lines.join("\n");
  }
  const e = error as Error;
  return `berth: ${e?.stack ?? String(error)}`;
}

export function writeJSON(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * A command that failed: rethrown for the CLI's error printer, or with `--json` one
 * `{ ok: false, error }` line and the error's exit code.
 */
export function failCommand(error: unknown, json: boolean | undefined): void {
  if (!json) throw error;
  writeJSON({ ok: false, error: errorToJSON(error) });
  process.exitCode = exitCodeFor(error);
}

/** A listing: the rows as JSON with `--json`, else `empty` when there are none, else a table. */
export function writeListing<T>(
  rows: T[],
  options: { json?: boolean; empty: string; headers: string[]; row: (item: T) => string[] },
): void {
  if (options.json) writeJSON(rows);
  else if (rows.length === 0) process.stdout.write(`${options.empty}\n`);
  else process.stdout.write(`${table(options.headers, rows.map(options.row))}\n`);
}

/** Renders rows as an aligned plain-text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

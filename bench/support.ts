// Shared benchmark helpers: statistics, the machine/daemon description, and the closing JSON line.
import { cpus, totalmem } from "node:os";
import type { Engine } from "../src/engine/engine.js";
import { sessionLabels } from "../src/janitor/labels.js";

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function benchEnv(engine: Engine): Promise<Record<string, unknown>> {
  const version = await engine.version();
  const info = await engine.info();
  return {
    engine: version.Version,
    api: version.ApiVersion,
    cgroup: info.CgroupVersion,
    storage: info.Driver,
    cpus: cpus().length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
  };
}

export interface Target {
  value: number;
  goal: string;
}

export function printJson(
  bench: string,
  env: Record<string, unknown>,
  figures: Record<string, unknown>,
  targets: Record<string, Target>,
): void {
  process.stdout.write(`${JSON.stringify({ bench, env, figures, targets })}\n`);
}

export function printTable(title: string, headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? String(round(c, 1)) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  process.stdout.write(`\n${title}\n${line(headers)}\n${cells.map(line).join("\n")}\n`);
}

/**
 * Labels for a benchmark's containers: its own (`berth.bench`, `berth.bench.run`, to sweep them
 * at the end) and a berth session owned by this process, so that `berth gc` reclaims what a
 * benchmark killed mid-run left behind, like any other dead owner's resources.
 */
export function benchLabels(kind: string, run: string): Record<string, string> {
  return sessionLabels({ session: `bench${run}`, extra: { "berth.bench": kind, "berth.bench.run": run } });
}

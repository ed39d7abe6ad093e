// How figures read in both reports: one formatter per kind of number, so the Markdown, the HTML
// and the CLI summary print the same value the same way (and tests can look for it).
import {
  type EvidenceValue,
  PERF_OPERATION_TITLES,
  PERF_OPERATIONS,
  type ScenarioResult,
  type ScenarioStatus,
  type ValidationResults,
} from "../model.js";

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

export function formatPercent(ratio: number, digits = 1): string {
  return `${(ratio * 100).toFixed(digits)}%`;
}

/** A signed relative change: `+12.3%`, `-4.0%`. */
export function formatChange(ratio: number): string {
  const pct = ratio * 100;
  return `${pct >= 0 ? "+" : "−"}${Math.abs(pct).toFixed(1)}%`;
}

export function formatRate(perSecond: number): string {
  return `${perSecond.toFixed(2)}/s`;
}

export function formatDate(iso: string): string {
  return iso
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC")
    .replace(/Z$/, " UTC");
}

export const STATUS_LABEL: Record<ScenarioStatus, string> = { pass: "pass", fail: "FAIL", skip: "skip" };
export const STATUS_ICON: Record<ScenarioStatus, string> = { pass: "✅", fail: "❌", skip: "⏭️" };

/** Renders an evidence value on one line: strings as they are, the rest as compact JSON. */
export function formatEvidence(value: EvidenceValue): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null)) {
    return value.map((v) => String(v)).join(", ");
  }
  return JSON.stringify(value);
}

/** A readable label for an evidence key: `stopMs` -> `stop ms`, `exit_code` -> `exit code`. */
export function humanKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase();
}

/** One row per timed operation of the run (title, samples, mean, p50, p95, and min/max with `range`). */
export function timingRows(performance: ValidationResults["performance"], range: boolean): string[][] {
  return PERF_OPERATIONS.filter((op) => performance.operations[op]).map((op) => {
    const f = performance.operations[op]!;
    const row = [
      PERF_OPERATION_TITLES[op],
      String(f.count),
      formatMs(f.mean),
      formatMs(f.p50),
      formatMs(f.p95),
    ];
    return range ? [...row, formatMs(f.min), formatMs(f.max)] : row;
  });
}

/** `yes`, `no` (with what happened under the fault), or `–` when the scenario did not run. */
export function provenLabel(s: ScenarioResult): string {
  if (!s.proof) return "–";
  if (s.proof.proven) return "yes";
  if (s.status !== "pass") return "no (failed healthy)";
  return s.proof.status === "fail" ? "no (unexpected failure)" : `no (${s.proof.status} under fault)`;
}

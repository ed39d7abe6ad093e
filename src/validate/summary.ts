// The short text summary `berth validate` prints when a run ends: the verdict, each category,
// the key timings and concurrency figures. The full story is in the reports.
import type { ValidationResults } from "./model.js";
import { verdictOf } from "./model.js";
import { formatMs, formatPercent, formatRate, timingRows } from "./report/format.js";

function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}

export function renderSummary(results: ValidationResults): string {
  const { summary, performance } = results;
  const ran = summary.passed + summary.failed;
  const lines = [
    `berth validate: ${verdictOf(results)}  ${summary.passed}/${summary.total} scenarios passed (${formatPercent(summary.successRate)}), ` +
      `${summary.skipped} skipped${results.options.allowSkips ? " (allowed)" : ""}, ` +
      (results.options.prove ? `${summary.proven ?? 0}/${ran} proven, ` : "") +
      `${results.leaks.count} leaks, ${formatMs(results.durationMs)}`,
    `${results.machine.engine} ${results.machine.engineVersion} (API ${results.machine.apiVersion}), ${results.machine.storageDriver}, ` +
      `cgroup v${results.machine.cgroupVersion}, ${results.machine.cpus} CPUs, limiter ${results.machine.limiter}`,
    "",
    ...columns([
      ["category", "passed", "failed", "skipped", "time"],
      ...summary.categories.map((c) => [
        c.category,
        `${c.passed}/${c.total - c.skipped}`,
        String(c.failed),
        String(c.skipped),
        formatMs(c.durationMs),
      ]),
    ]).map((l) => `  ${l}`),
  ];
  const timings = timingRows(performance, false);
  if (timings.length > 0) {
    lines.push("", ...columns([["operation", "n", "mean", "p50", "p95"], ...timings]).map((l) => `  ${l}`));
  }
  if (performance.concurrency.length > 0) {
    lines.push(
      "",
      `  concurrency: ${performance.concurrency
        .map((c) => `${c.callers} callers ${formatPercent(c.successRate, 0)} ok, ${formatRate(c.throughput)}`)
        .join(" · ")}`,
    );
  }
  const failures = results.scenarios.filter((s) => s.status === "fail");
  if (failures.length > 0) {
    lines.push("", "failed:");
    for (const f of failures) lines.push(`  ${f.id}: ${f.failure?.message ?? "failed"}`);
  }
  const skips = results.scenarios.filter((s) => s.status === "skip");
  if (skips.length > 0) {
    lines.push(
      "",
      `skipped${results.options.allowSkips ? " (allowed by --allow-skips)" : " (the run fails unless --allow-skips)"}:`,
    );
    for (const s of skips) lines.push(`  ${s.id}: ${s.skipReason ?? "skipped"}`);
  }
  if (results.options.prove) {
    const unproven = results.scenarios.filter((s) => s.status === "pass" && !s.proof?.proven);
    if (unproven.length > 0) {
      lines.push("", "not proven (passed, but did not fail as expected under their fault):");
      for (const s of unproven)
        lines.push(
          `  ${s.id}: under "${s.proof?.fault ?? "no fault"}" it ${s.proof?.status === "fail" ? `said: ${(s.proof.failure?.message ?? "").split("\n")[0]}` : s.proof?.status === "pass" ? "passed" : "was skipped"}`,
        );
    }
  }
  return `${lines.join("\n")}\n`;
}

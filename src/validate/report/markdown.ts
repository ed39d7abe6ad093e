// The Markdown report: an executive summary first (verdict, success rate, pass rate per category,
// leaks, timings), then a section per category with every scenario's result and evidence, then
// the machine and daemon. With a baseline, a section on what changed.

import { formatSize } from "../../memory/size.js";
import { PERF_OPERATION_TITLES, type ScenarioResult, type ValidationResults, verdictOf } from "../model.js";
import type { LatencyChange, RunComparison } from "./compare.js";
import {
  formatChange,
  formatDate,
  formatEvidence,
  formatMs,
  formatPercent,
  formatRate,
  humanKey,
  provenLabel,
  STATUS_ICON,
  STATUS_LABEL,
  timingRows,
} from "./format.js";
import { seedComparison } from "./seed.js";

function table(headers: string[], rows: string[][], align: ("l" | "r")[] = []): string {
  const sep = headers.map((_, i) => (align[i] === "r" ? "---:" : "---"));
  const line = (cells: string[]) =>
    `| ${cells.map((c) => c.replace(/\|/g, "\\|").replace(/\n/g, " ")).join(" | ")} |`;
  return [line(headers), `| ${sep.join(" | ")} |`, ...rows.map(line)].join("\n");
}

function code(text: string): string {
  const fence = text.includes("`") ? "``" : "`";
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function summarySection(results: ValidationResults): string[] {
  const { summary, performance } = results;
  const ran = summary.passed + summary.failed;
  const lines = [
    "## Summary",
    "",
    table(
      ["Figure", "Value"],
      [
        [
          "Overall success rate",
          `${formatPercent(summary.successRate)} (${summary.passed} of ${summary.total} scenarios passed; skips count against it)`,
        ],
        ...(results.options.prove
          ? [["Proven", `${summary.proven ?? 0} of ${ran} scenarios failed under their fault as expected`]]
          : []),
        ["Failed", String(summary.failed)],
        ["Skipped", String(summary.skipped)],
        ["Leaks", String(results.leaks.count)],
        [
          "Lifecycle throughput",
          performance.throughput > 0 ? formatRate(performance.throughput) : "not measured",
        ],
        [
          "Run",
          `${results.options.quick ? "quick" : "full"}, ${formatMs(results.durationMs)}, started ${formatDate(results.startedAt)}`,
        ],
      ],
    ),
    "",
    "### Pass rate per category",
    "",
    table(
      ["Category", "Passed", "Failed", "Skipped", "Pass rate", "Time"],
      summary.categories.map((c) => [
        c.title,
        String(c.passed),
        String(c.failed),
        String(c.skipped),
        c.passed + c.failed === 0 ? "n/a" : formatPercent(c.passRate),
        formatMs(c.durationMs),
      ]),
      ["l", "r", "r", "r", "r", "r"],
    ),
    "",
  ];
  const timings = timingRows(performance, true);
  lines.push("### Timings", "");
  if (timings.length === 0) {
    lines.push("No lifecycle timings were recorded in this run.", "");
  } else {
    lines.push(
      table(["Operation", "Samples", "Mean", "p50", "p95", "Min", "Max"], timings, [
        "l",
        "r",
        "r",
        "r",
        "r",
        "r",
        "r",
      ]),
      "",
    );
  }
  if (performance.concurrency.length > 0) {
    lines.push(
      "### Concurrency",
      "",
      table(
        ["Callers", "Lifecycles", "Succeeded", "Success rate", "Wall time", "Throughput"],
        performance.concurrency.map((c) => [
          String(c.callers),
          String(c.lifecycles),
          String(c.succeeded),
          formatPercent(c.successRate),
          formatMs(c.wallMs),
          formatRate(c.throughput),
        ]),
        ["r", "r", "r", "r", "r", "r"],
      ),
      "",
    );
  }
  const failures = results.scenarios.filter((s) => s.status === "fail");
  if (failures.length > 0) {
    lines.push("### Failures", "");
    for (const s of failures) lines.push(`- ${code(s.id)}: ${s.failure?.message ?? "failed"}`);
    lines.push("");
  }
  return lines;
}

function proofLines(s: ScenarioResult): string[] {
  const p = s.proof;
  if (!p) return [];
  const lines = [
    `Under its fault (${p.kind}: ${p.fault}): **${p.status}**${p.proven ? ", as expected" : ""} · ${formatMs(p.durationMs)}`,
    "",
  ];
  if (p.failure) lines.push(`> it said: ${p.failure.message.split("\n")[0]}`);
  lines.push(`> expected: ${code(p.expected)}`, "");
  const evidence = Object.entries(p.evidence);
  if (evidence.length > 0) {
    lines.push(
      `Evidence under the fault: ${evidence.map(([key, value]) => `${humanKey(key)} ${code(formatEvidence(value))}`).join("; ")}`,
      "",
    );
  }
  return lines;
}

function scenarioBlock(s: ScenarioResult): string[] {
  const lines = [
    `#### ${STATUS_ICON[s.status]} ${s.title}`,
    "",
    `${code(s.id)} · **${STATUS_LABEL[s.status]}** · ${formatMs(s.durationMs)}`,
    "",
  ];
  if (s.failure) {
    lines.push(
      `> **Why it failed:** ${s.failure.message}${s.failure.code ? ` (${code(s.failure.code)})` : ""}`,
    );
    if (s.failure.expected !== undefined)
      lines.push(`> expected: ${code(formatEvidence(s.failure.expected))}`);
    if (s.failure.actual !== undefined) lines.push(`> actual: ${code(formatEvidence(s.failure.actual))}`);
    if (s.failure.hint) lines.push(`> hint: ${s.failure.hint}`);
    lines.push("");
  }
  if (s.skipReason) lines.push(`> Skipped: ${s.skipReason}`, "");
  const evidence = Object.entries(s.evidence);
  if (evidence.length > 0) {
    lines.push("Evidence:", "");
    for (const [key, value] of evidence) lines.push(`- ${humanKey(key)}: ${code(formatEvidence(value))}`);
    lines.push("");
  }
  const timings = Object.entries(s.timings);
  if (timings.length > 0) {
    lines.push(`Timings: ${timings.map(([phase, ms]) => `${phase} ${formatMs(ms)}`).join(", ")}`, "");
  }
  lines.push(...proofLines(s));
  return lines;
}

function categorySections(results: ValidationResults): string[] {
  const lines: string[] = [];
  for (const category of results.summary.categories) {
    const scenarios = results.scenarios.filter((s) => s.category === category.category);
    if (scenarios.length === 0) continue;
    lines.push(
      `## ${category.title}`,
      "",
      `${category.passed} passed, ${category.failed} failed, ${category.skipped} skipped · ${formatMs(category.durationMs)}`,
      "",
      results.options.prove
        ? table(
            ["", "Scenario", "Result", "Proven", "Fault", "Time"],
            scenarios.map((s) => [
              STATUS_ICON[s.status],
              `${s.title} (${code(s.id)})`,
              STATUS_LABEL[s.status],
              provenLabel(s),
              s.proof?.fault ?? "",
              formatMs(s.durationMs),
            ]),
            ["l", "l", "l", "l", "l", "r"],
          )
        : table(
            ["", "Scenario", "Result", "Time"],
            scenarios.map((s) => [
              STATUS_ICON[s.status],
              `${s.title} (${code(s.id)})`,
              STATUS_LABEL[s.status],
              formatMs(s.durationMs),
            ]),
            ["l", "l", "l", "r"],
          ),
      "",
    );
    for (const s of scenarios) lines.push(...scenarioBlock(s));
  }
  return lines;
}

function seedSection(results: ValidationResults): string[] {
  return [
    "## Against the seed's figures",
    "",
    "The seed's completion report beside what this run measured (p50 for latencies).",
    "",
    table(
      ["Figure", "Seed", "berth", ""],
      seedComparison(results).map((r) => [
        r.figure,
        r.seed,
        r.berth,
        r.better === undefined ? "" : r.better ? "as good or better" : "worse",
      ]),
    ),
    "",
  ];
}

function machineSection(results: ValidationResults): string[] {
  const m = results.machine;
  return [
    "## Machine and daemon",
    "",
    table(
      ["Fact", "Value"],
      [
        ["Engine", `${m.engine} ${m.engineVersion} (API ${m.apiVersion})${m.rootless ? ", rootless" : ""}`],
        ["Endpoint", `${m.dockerHost} (${m.endpointSource})`],
        ["cgroup", `v${m.cgroupVersion} (${m.cgroupDriver} driver)`],
        ["Storage driver", m.storageDriver],
        ["CPUs", `${m.cpus} (daemon sees ${m.daemonCpus})`],
        ["Memory", `${formatSize(m.memoryBytes)} (daemon sees ${formatSize(m.daemonMemoryBytes)})`],
        ["Kernel", m.kernel],
        ["Operating system", m.os],
        ["Node.js", m.node],
        ["Limiter", m.limiter],
        ["Host", m.hostname],
      ],
    ),
    "",
  ];
}

function apiSection(results: ValidationResults): string[] {
  const entries = Object.entries(results.performance.api);
  if (entries.length === 0) return [];
  return [
    "## Engine API round trips (measured by berth)",
    "",
    "From each engine call's dispatch (after the limiter's queue) to the daemon's answer, as the client sees it; every sample is in results.json.",
    "",
    table(
      ["Operation", "Calls", "p50", "p95", "Max"],
      entries.map(([op, s]) => [
        code(op),
        String(s.count),
        formatMs(s.p50),
        formatMs(s.p95),
        formatMs(s.max),
      ]),
      ["l", "r", "r", "r", "r"],
    ),
    "",
  ];
}

function changeCell(change: LatencyChange): string {
  if (change.verdict === "new") return "new";
  if (change.verdict === "gone") return "not measured";
  const pct = change.p50Change === undefined ? "" : ` (${formatChange(change.p50Change)})`;
  return `${change.verdict}${pct}`;
}

function baselineSection(comparison: RunComparison): string[] {
  const c = comparison;
  const lines = [
    "## Change against the baseline",
    "",
    `Baseline: run ${code(c.baseline.runId)} of ${formatDate(c.baseline.startedAt)} (engine ${c.baseline.engineVersion}, ${c.baseline.quick ? "quick" : "full"}).`,
    "",
    table(
      ["Figure", "Baseline", "This run"],
      [
        ["Success rate", formatPercent(c.successRate.before), formatPercent(c.successRate.after)],
        ["Throughput", formatRate(c.throughput.before), formatRate(c.throughput.after)],
        ["Leaks", String(c.leaks.before), String(c.leaks.after)],
      ],
      ["l", "r", "r"],
    ),
    "",
  ];
  if (c.operations.length > 0) {
    lines.push(
      table(
        ["Operation", "Baseline p50", "p50", "Baseline p95", "p95", "Change"],
        c.operations.map((o) => [
          PERF_OPERATION_TITLES[o.operation as keyof typeof PERF_OPERATION_TITLES] ?? o.operation,
          o.before ? formatMs(o.before.p50) : "–",
          o.after ? formatMs(o.after.p50) : "–",
          o.before ? formatMs(o.before.p95) : "–",
          o.after ? formatMs(o.after.p95) : "–",
          changeCell(o),
        ]),
        ["l", "r", "r", "r", "r", "l"],
      ),
      "",
    );
  }
  const list = (title: string, items: RunComparison["newlyFailing"]) => {
    if (items.length === 0) return;
    lines.push(`### ${title}`, "");
    for (const s of items) lines.push(`- ${code(s.id)} ${s.title}${s.message ? `: ${s.message}` : ""}`);
    lines.push("");
  };
  list("Newly failing", c.newlyFailing);
  list("Newly passing", c.newlyPassing);
  list("Still failing", c.stillFailing);
  list("New scenarios", c.added);
  list("Not in this run", c.removed);
  if (c.newlyFailing.length + c.newlyPassing.length + c.stillFailing.length === 0) {
    lines.push("No scenario changed its result.", "");
  }
  return lines;
}

export function renderMarkdown(results: ValidationResults, comparison?: RunComparison): string {
  const verdict = verdictOf(results);
  const ran = results.summary.passed + results.summary.failed;
  const lines = [
    "# berth validation report",
    "",
    `**${verdict}**: ${results.summary.passed} of ${results.summary.total} scenarios passed (${formatPercent(results.summary.successRate)}), ` +
      `${results.summary.skipped} skipped${results.options.allowSkips ? " (allowed)" : ""}, ` +
      (results.options.prove ? `${results.summary.proven ?? 0} of ${ran} proven, ` : "") +
      `${results.leaks.count} leaks, on ${results.machine.engine} ${results.machine.engineVersion} ` +
      `(${results.machine.storageDriver}, cgroup v${results.machine.cgroupVersion}, ${results.machine.cpus} CPUs). ` +
      `Run ${code(results.runId)}, ${results.options.quick ? "quick" : "full"}, ${formatMs(results.durationMs)}.`,
    "",
    ...summarySection(results),
    ...seedSection(results),
    ...(comparison ? baselineSection(comparison) : []),
    ...categorySections(results),
    ...machineSection(results),
    ...apiSection(results),
    `<sub>berth ${results.berthVersion} · results schema ${code(results.schema)} · ${formatDate(results.finishedAt)}</sub>`,
    "",
  ];
  return lines.join("\n");
}

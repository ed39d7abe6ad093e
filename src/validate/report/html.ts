// The HTML report: one self-contained file (inline CSS and SVG, no script, no network) that
// reads top-down like the Markdown one: verdict and key figures, pass rate per category, latency
// distributions, concurrency, the change against a baseline, every scenario, machine facts.

import { formatSize } from "../../memory/size.js";
import {
  PERF_OPERATION_TITLES,
  PERF_OPERATIONS,
  type ScenarioResult,
  type ValidationResults,
  verdictOf,
} from "../model.js";
import {
  categoryChart,
  comparisonChart,
  concurrencyChart,
  escapeXml as esc,
  latencyChart,
  limiterChart,
} from "./charts.js";
import type { RunComparison, ScenarioChange } from "./compare.js";
import * as fmt from "./format.js";
import { seedComparison } from "./seed.js";

const CSS = `
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f4f6fa;--card:#fff;--pass:#16a34a;--fail:#dc2626;--skip:#94a3b8;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 "Inter","Segoe UI","DejaVu Sans",system-ui,sans-serif}
code,.mono{font-family:"JetBrains Mono","DejaVu Sans Mono",ui-monospace,monospace;font-size:.86em}
header.hero{background:linear-gradient(135deg,#0f172a 0%,#1e3a8a 100%);color:#fff;padding:34px 0 86px}
.wrap{max-width:1100px;margin:0 auto;padding:0 28px}
.brand{font-weight:700;letter-spacing:.18em;text-transform:uppercase;font-size:12px;opacity:.7}
h1{margin:6px 0 10px;font-size:30px;font-weight:700;display:flex;align-items:center;gap:14px}
.verdict{font-size:14px;font-weight:800;letter-spacing:.08em;padding:5px 12px;border-radius:999px}
.verdict.pass{background:#dcfce7;color:#166534}.verdict.fail{background:#fee2e2;color:#991b1b}
.meta{margin:0;opacity:.85;font-size:14px}
main.wrap{margin-top:-60px;padding-bottom:40px}
.kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:14px;margin-bottom:22px}
.kpi{background:var(--card);border-radius:12px;padding:16px 18px;box-shadow:0 1px 2px rgba(15,23,42,.06),0 6px 18px rgba(15,23,42,.06)}
.kpi .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
.kpi .v{font-size:26px;font-weight:700;margin-top:4px;white-space:nowrap}
.kpi .s{font-size:12px;color:var(--muted)}
.good{color:var(--pass)}.bad{color:var(--fail)}
section.card{background:var(--card);border-radius:12px;padding:20px 24px;margin-bottom:22px;box-shadow:0 1px 2px rgba(15,23,42,.06),0 6px 18px rgba(15,23,42,.05)}
h2{font-size:18px;margin:0 0 4px}
.sub{color:var(--muted);font-size:13px;margin:0 0 14px}
svg.chart{display:block;max-width:100%;height:auto;overflow:visible}
svg .label{font-size:13px;fill:var(--ink)}svg .value{font-size:13px;font-weight:600;fill:var(--ink)}
svg .tick{font-size:11px;fill:var(--muted)}svg .good{fill:var(--pass)}svg .bad{fill:var(--fail)}
table{width:100%;border-collapse:collapse;font-size:14px}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:8px 10px}
td{border-bottom:1px solid var(--line);padding:8px 10px;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pill{display:inline-block;min-width:44px;text-align:center;font-size:11px;font-weight:700;letter-spacing:.05em;text-transform:uppercase;border-radius:999px;padding:2px 8px}
.pill.pass{background:#dcfce7;color:#166534}.pill.fail{background:#fee2e2;color:#991b1b}.pill.skip{background:#f1f5f9;color:#475569}
.pill.faster{background:#dcfce7;color:#166534}.pill.slower{background:#fee2e2;color:#991b1b}.pill.same,.pill.new,.pill.gone{background:#f1f5f9;color:#475569}
.cat{margin-top:18px}.cat:first-of-type{margin-top:6px}
.cat h3{font-size:16px;margin:0 0 6px;display:flex;align-items:center;gap:10px}
.cat h3 .count{font-size:12px;color:var(--muted);font-weight:500}
.sid{color:var(--muted);font-size:12px}
details{margin-top:4px}summary{cursor:pointer;color:var(--accent);font-size:13px}summary .peek{color:var(--muted)}
dl.ev{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0 2px;font-size:13px}
dl.ev dt{color:var(--muted)}dl.ev dd{margin:0;word-break:break-word}
.why{background:#fef2f2;border-left:4px solid var(--fail);padding:8px 12px;border-radius:6px;margin:6px 0;font-size:13.5px}
.why b{color:#991b1b}.why .hint{color:var(--muted)}
.skipwhy{color:var(--muted);font-size:13px;margin-top:4px}
.proof{background:#f1f5f9;border-left:4px solid #64748b;padding:6px 12px;border-radius:6px;margin:6px 0;font-size:13px}
.facts{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.fact{border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.fact .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}.fact .v{font-weight:600;margin-top:2px;word-break:break-word}
ul.changes{margin:6px 0 0;padding-left:20px}ul.changes li{margin:3px 0}
.legend{display:flex;gap:18px;font-size:12px;color:var(--muted);margin:2px 0 10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;vertical-align:-1px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
@media (max-width:900px){.kpis{grid-template-columns:repeat(3,1fr)}.facts{grid-template-columns:repeat(2,1fr)}}
@media print{header.hero{padding-bottom:30px}main.wrap{margin-top:0}}
`;

function kpi(label: string, value: string, sub: string, tone = ""): string {
  return `<div class="kpi"><div class="k">${esc(label)}</div><div class="v ${tone}">${esc(value)}</div><div class="s">${esc(sub)}</div></div>`;
}

function kpis(r: ValidationResults): string {
  const ran = r.summary.passed + r.summary.failed;
  const safe = r.performance.operations.safeRemove;
  const best = [...r.performance.concurrency].sort((a, b) => b.throughput - a.throughput)[0];
  return `<section id="summary" class="kpis">${[
    kpi(
      "Success rate",
      fmt.formatPercent(r.summary.successRate),
      `${r.summary.passed} of ${r.summary.total} scenarios`,
      r.summary.failed || (r.summary.skipped && !r.options.allowSkips) ? "bad" : "good",
    ),
    ...(r.options.prove
      ? [
          kpi(
            "Proven",
            `${r.summary.proven ?? 0}/${ran}`,
            "failed under their fault",
            (r.summary.proven ?? 0) < r.summary.passed ? "bad" : "good",
          ),
        ]
      : []),
    kpi("Failed", String(r.summary.failed), `${r.summary.skipped} skipped`, r.summary.failed ? "bad" : ""),
    kpi("Leaks", String(r.leaks.count), "left behind", r.leaks.count ? "bad" : "good"),
    kpi(
      "Throughput",
      r.performance.throughput > 0 ? fmt.formatRate(r.performance.throughput) : "–",
      best ? `lifecycles, ${best.callers} callers` : "not measured",
    ),
    kpi(
      "Safe removal",
      safe ? fmt.formatMs(safe.p50) : "–",
      safe ? `p50 · p95 ${fmt.formatMs(safe.p95)}` : "not measured",
    ),
    kpi("Duration", fmt.formatMs(r.durationMs), r.options.quick ? "quick run" : "full run"),
  ].join("")}</section>`;
}

function latencySection(r: ValidationResults): string {
  const rows = PERF_OPERATIONS.filter((op) => r.performance.operations[op]).map((op) => {
    const { samples, ...summary } = r.performance.operations[op]!;
    return { label: PERF_OPERATION_TITLES[op], summary, samples };
  });
  const api = Object.entries(r.performance.api)
    .filter(([, s]) => s.count > 0)
    .map(([op, { samples, ...summary }]) => ({ label: op, summary, samples }));
  if (rows.length === 0 && api.length === 0) return "";
  const legend = `<div class="legend"><span><i style="background:#bfdbfe;border:1px solid #2563eb"></i>p25–p75</span><span><i style="background:#0f172a"></i>median</span><span><i style="background:#dc2626"></i>p95</span><span><i style="background:#2563eb;opacity:.4;border-radius:50%"></i>one sample</span><span>line: min–max · log scale</span></div>`;
  const table = rows.length
    ? `<table><thead><tr><th>Operation</th><th class="num">Samples</th><th class="num">Mean</th><th class="num">p50</th><th class="num">p95</th><th class="num">Min</th><th class="num">Max</th></tr></thead><tbody>${rows
        .map(
          ({ label, summary: s }) =>
            `<tr><td>${esc(label)}</td><td class="num">${s.count}</td><td class="num">${fmt.formatMs(s.mean)}</td><td class="num">${fmt.formatMs(s.p50)}</td><td class="num">${fmt.formatMs(s.p95)}</td><td class="num">${fmt.formatMs(s.min)}</td><td class="num">${fmt.formatMs(s.max)}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return `<section id="latency" class="card"><h2>Latency per operation</h2><p class="sub">Client-side time of each lifecycle step through berth (guard included), over every sample the run took.</p>${legend}${
    rows.length ? latencyChart(rows) : ""
  }${table}${
    api.length
      ? `<h2 style="margin-top:22px">Engine API round trips, measured by berth</h2><p class="sub">From each engine call's dispatch (after the limiter's queue) to the daemon's answer, as the client sees it: it includes the socket and the daemon's own queueing.</p>${latencyChart(api, "Engine API round trip per operation", 36)}`
      : ""
  }</section>`;
}

function limiterSection(r: ValidationResults): string {
  const points = r.performance.limiter;
  if (points.length < 2) return "";
  return `<section id="limiter" class="card"><h2>The guard's limit over the run</h2><p class="sub">${esc(
    r.machine.limiter,
  )}: the lifecycle limit (step line) and the calls in flight (area), sampled every 100 ms.</p>${limiterChart(points)}</section>`;
}

function concurrencySection(r: ValidationResults): string {
  const figures = r.performance.concurrency;
  if (figures.length === 0) return "";
  return `<section id="concurrency" class="card"><h2>Concurrency</h2><p class="sub">Parallel create–start–stop–remove lifecycles through the guard; the target success rate is 100%.</p>${concurrencyChart(
    figures,
  )}</section>`;
}

function changeList(title: string, items: ScenarioChange[], tone: string): string {
  if (items.length === 0) return "";
  return `<h3 class="${tone}" style="font-size:15px;margin:16px 0 0">${esc(title)} (${items.length})</h3><ul class="changes">${items
    .map(
      (s) =>
        `<li><code>${esc(s.id)}</code> ${esc(s.title)}${s.message ? ` — <span class="bad">${esc(s.message)}</span>` : ""}</li>`,
    )
    .join("")}</ul>`;
}

function comparisonTable(changes: RunComparison["operations"]): string {
  const title = (op: string) => PERF_OPERATION_TITLES[op as keyof typeof PERF_OPERATION_TITLES] ?? op;
  const rows = changes
    .filter((o) => o.before || o.after)
    .map(
      (o) =>
        `<tr><td>${esc(title(o.operation))}</td><td class="num">${o.before ? fmt.formatMs(o.before.p50) : "–"}</td><td class="num">${o.after ? fmt.formatMs(o.after.p50) : "–"}</td><td class="num">${o.p50Change === undefined ? "–" : fmt.formatChange(o.p50Change)}</td><td class="num">${o.before ? fmt.formatMs(o.before.p95) : "–"}</td><td class="num">${o.after ? fmt.formatMs(o.after.p95) : "–"}</td><td><span class="pill ${o.verdict}">${o.verdict}</span></td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>Operation</th><th class="num">Baseline p50</th><th class="num">p50</th><th class="num">Change</th><th class="num">Baseline p95</th><th class="num">p95</th><th>Verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function baselineSection(c: RunComparison): string {
  const unchanged = c.newlyFailing.length + c.newlyPassing.length + c.stillFailing.length === 0;
  const tone = (after: number, before: number, higherIsBetter: boolean) =>
    after === before ? "" : after > before === higherIsBetter ? "good" : "bad";
  const measured = c.throughput.after > 0 || c.throughput.before > 0;
  const count = (verdict: string) => c.api.filter((o) => o.verdict === verdict).length;
  const api = c.api.filter((o) => o.before || o.after);
  return `<section id="baseline" class="card"><h2>Change against the baseline</h2><p class="sub">Baseline run <code>${esc(c.baseline.runId)}</code> of ${esc(fmt.formatDate(c.baseline.startedAt))} on engine ${esc(c.baseline.engineVersion)} (${c.baseline.quick ? "quick" : "full"}). A latency change counts when p50 moves by at least 10% and 5 ms.</p>
<div class="kpis" style="grid-template-columns:repeat(4,1fr);margin-bottom:14px">${[
    kpi(
      "Success rate",
      fmt.formatPercent(c.successRate.after),
      `was ${fmt.formatPercent(c.successRate.before)}`,
      tone(c.successRate.after, c.successRate.before, true),
    ),
    kpi(
      "Throughput",
      measured ? fmt.formatRate(c.throughput.after) : "–",
      measured ? `was ${fmt.formatRate(c.throughput.before)}` : "not measured in either run",
      tone(c.throughput.after, c.throughput.before, true),
    ),
    kpi(
      "Newly failing",
      String(c.newlyFailing.length),
      `${c.newlyPassing.length} newly passing`,
      c.newlyFailing.length ? "bad" : "good",
    ),
    kpi("Leaks", String(c.leaks.after), `was ${c.leaks.before}`, tone(c.leaks.after, c.leaks.before, false)),
  ].join("")}</div>
${changeList("Newly failing", c.newlyFailing, "bad")}${changeList("Newly passing", c.newlyPassing, "good")}${changeList("Still failing", c.stillFailing, "bad")}${changeList("New scenarios", c.added, "")}${changeList("Not in this run", c.removed, "")}${
  unchanged ? `<p class="sub" style="margin-top:12px">No scenario changed its result.</p>` : ""
}
<h3 style="font-size:15px;margin:18px 0 6px">Lifecycle latency</h3>
${comparisonChart(c.operations, PERF_OPERATION_TITLES)}
${comparisonTable(c.operations)}
${
  api.length
    ? `<details style="margin-top:12px"><summary>Engine API calls: ${api.length} operations, ${count("faster")} faster, ${count("slower")} slower</summary>${comparisonTable(api)}</details>`
    : ""
}</section>`;
}

function evidenceList(s: ScenarioResult): string {
  const entries = Object.entries(s.evidence);
  const timings = Object.entries(s.timings);
  if (entries.length === 0 && timings.length === 0) return "";
  const items = [
    ...entries.map(
      ([k, v]) => `<dt>${esc(fmt.humanKey(k))}</dt><dd class="mono">${esc(fmt.formatEvidence(v))}</dd>`,
    ),
    ...(timings.length
      ? [
          `<dt>timings</dt><dd class="mono">${esc(timings.map(([p, ms]) => `${p} ${fmt.formatMs(ms)}`).join(" · "))}</dd>`,
        ]
      : []),
  ];
  const preview = entries
    .slice(0, 3)
    .map(([k, v]) => `${fmt.humanKey(k)}: ${fmt.formatEvidence(v)}`)
    .join(" · ");
  const short = preview.length > 110 ? `${preview.slice(0, 109)}…` : preview;
  return `<details${s.status === "fail" ? " open" : ""}><summary>Evidence${short ? ` <span class="peek">· ${esc(short)}</span>` : ""}</summary><dl class="ev">${items.join("")}</dl></details>`;
}

function failureBox(s: ScenarioResult): string {
  if (!s.failure) return "";
  const f = s.failure;
  const facts = [
    f.expected !== undefined ? `expected <code>${esc(fmt.formatEvidence(f.expected))}</code>` : "",
    f.actual !== undefined ? `actual <code>${esc(fmt.formatEvidence(f.actual))}</code>` : "",
  ].filter(Boolean);
  return `<div class="why"><b>Why it failed:</b> ${esc(f.message)}${f.code ? ` <code>${esc(f.code)}</code>` : ""}${
    facts.length ? `<br>${facts.join(" · ")}` : ""
  }${f.hint ? `<br><span class="hint">Hint: ${esc(f.hint)}</span>` : ""}</div>`;
}

function proofBox(s: ValidationResults["scenarios"][number]): string {
  const p = s.proof;
  if (!p) return "";
  return `<div class="proof"><b>Under its fault</b> (${esc(p.kind)}: ${esc(p.fault)}): ${esc(p.status)}${
    p.failure ? ` · <span class="mono">${esc(p.failure.message.split("\n")[0] ?? "")}</span>` : ""
  }<br><span class="hint">expected: <code>${esc(p.expected)}</code></span></div>`;
}

function scenarioSections(r: ValidationResults): string {
  const blocks = r.summary.categories
    .map((c) => {
      const scenarios = r.scenarios.filter((s) => s.category === c.category);
      if (scenarios.length === 0) return "";
      const rows = scenarios
        .map(
          (s) =>
            `<tr id="scenario-${esc(s.id)}"><td style="width:70px"><span class="pill ${s.status}">${fmt.STATUS_LABEL[s.status]}</span></td><td>${esc(s.title)}<div class="sid mono">${esc(s.id)}</div>${failureBox(s)}${
              s.skipReason ? `<div class="skipwhy">Skipped: ${esc(s.skipReason)}</div>` : ""
            }${evidenceList(s)}${proofBox(s)}</td>${
              r.options.prove ? `<td style="width:90px">${esc(fmt.provenLabel(s))}</td>` : ""
            }<td class="num" style="width:90px">${fmt.formatMs(s.durationMs)}</td></tr>`,
        )
        .join("");
      return `<div class="cat" id="category-${esc(c.category)}"><h3>${esc(c.title)} <span class="count">${c.passed} passed · ${c.failed} failed · ${c.skipped} skipped · ${fmt.formatMs(c.durationMs)}</span></h3><table><tbody>${rows}</tbody></table></div>`;
    })
    .join("");
  return `<section id="scenarios" class="card"><h2>Scenarios</h2><p class="sub">Every scenario with its result, what it observed, and why it failed when it did.</p>${blocks}</section>`;
}

function seedSection(r: ValidationResults): string {
  const rows = seedComparison(r)
    .map(
      (row) =>
        `<tr><td>${esc(row.figure)}</td><td class="num">${esc(row.seed)}</td><td class="num">${esc(row.berth)}</td><td>${
          row.better === undefined
            ? ""
            : row.better
              ? '<span class="pill pass">as good or better</span>'
              : '<span class="pill fail">worse</span>'
        }</td></tr>`,
    )
    .join("");
  return `<section id="seed" class="card"><h2>Against the seed's figures</h2><p class="sub">The seed's completion report beside what this run measured (p50 for latencies).</p><table><thead><tr><th>Figure</th><th class="num">Seed</th><th class="num">berth</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function machineSection(r: ValidationResults): string {
  const m = r.machine;
  const facts: [string, string][] = [
    ["Engine", `${m.engine} ${m.engineVersion} (API ${m.apiVersion})${m.rootless ? ", rootless" : ""}`],
    ["Endpoint", `${m.dockerHost} (${m.endpointSource})`],
    ["cgroup", `v${m.cgroupVersion} · ${m.cgroupDriver}`],
    ["Storage driver", m.storageDriver],
    ["CPUs", `${m.cpus} (daemon: ${m.daemonCpus})`],
    ["Memory", `${formatSize(m.memoryBytes)} (daemon: ${formatSize(m.daemonMemoryBytes)})`],
    ["Kernel", m.kernel],
    ["Operating system", m.os],
    ["Node.js", m.node],
    ["Limiter", m.limiter],
    ["Host", m.hostname],
    ["Run", `${r.runId} · ${fmt.formatDate(r.startedAt)}`],
  ];
  return `<section id="machine" class="card"><h2>Machine and daemon</h2><p class="sub">What this run measured.</p><div class="facts">${facts
    .map(([k, v]) => `<div class="fact"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`)
    .join("")}</div></section>`;
}

export function renderHtml(results: ValidationResults, comparison?: RunComparison): string {
  const verdict = verdictOf(results);
  const ran = results.summary.passed + results.summary.failed;
  const m = results.machine;
  const failures = results.scenarios.filter((s) => s.status === "fail");
  const failureSection = failures.length
    ? `<section id="failures" class="card"><h2 class="bad">Failures</h2><p class="sub">${failures.length} scenario(s) failed; details are with each scenario below.</p><ul class="changes">${failures
        .map(
          (s) =>
            `<li><a href="#scenario-${esc(s.id)}"><code>${esc(s.id)}</code></a> ${esc(s.failure?.message ?? "failed")}</li>`,
        )
        .join("")}</ul></section>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>berth validation: ${verdict} · ${results.summary.passed}/${ran}</title>
<style>${CSS}</style></head>
<body>
<header class="hero"><div class="wrap"><div class="brand">berth · docker stability validation</div>
<h1>Validation report <span class="verdict ${verdict.toLowerCase()}">${verdict}</span></h1>
<p class="meta">${results.summary.passed} of ${ran} scenarios passed · ${results.leaks.count} leaks · ${esc(m.engine)} ${esc(m.engineVersion)} (${esc(m.storageDriver)}, cgroup v${esc(m.cgroupVersion)}, ${m.cpus} CPUs) · ${results.options.quick ? "quick" : "full"} run of ${esc(fmt.formatDate(results.startedAt))}, ${fmt.formatMs(results.durationMs)}</p></div></header>
<main class="wrap">
${kpis(results)}
${failureSection}
<section id="categories" class="card"><h2>Pass rate per category</h2><p class="sub">Scenarios passed, failed and skipped in each category.</p><div class="legend"><span><i style="background:#16a34a"></i>passed</span><span><i style="background:#dc2626"></i>failed</span><span><i style="background:#cbd5e1"></i>skipped</span></div>${categoryChart(
    results.summary.categories,
  )}</section>
${comparison ? baselineSection(comparison) : ""}
${latencySection(results)}
${limiterSection(results)}
${concurrencySection(results)}
${scenarioSections(results)}
${seedSection(results)}
${machineSection(results)}
</main>
<footer>berth ${esc(results.berthVersion)} · results schema <code>${esc(results.schema)}</code> · finished ${esc(fmt.formatDate(results.finishedAt))}</footer>
</body></html>
`;
}

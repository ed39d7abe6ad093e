// Inline SVG charts for the HTML report: drawn from the results alone, with no script and no
// network, so the file renders the same in a browser, a CI artifact viewer or a screenshot.

import { percentile } from "../../model/stats.js";
import type { CategorySummary, ConcurrencyFigure, LatencySummary, LimiterPoint } from "../model.js";
import type { LatencyChange } from "./compare.js";
import { formatChange, formatMs, formatPercent, formatRate } from "./format.js";

const COLORS = {
  pass: "#16a34a",
  fail: "#dc2626",
  skip: "#cbd5e1",
  ink: "#0f172a",
  muted: "#64748b",
  grid: "#e2e8f0",
  accent: "#2563eb",
  accentSoft: "#bfdbfe",
  baseline: "#94a3b8",
} as const;

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function svg(width: number, height: number, body: string, label: string): string {
  return `<svg class="chart" role="img" aria-label="${escapeXml(label)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escapeXml(content)}</text>`;
}

/** Stacked bars per category: passed, failed and skipped scenarios. */
export function categoryChart(categories: CategorySummary[]): string {
  const width = 960;
  const labelW = 190;
  const valueW = 150;
  const barW = width - labelW - valueW - 20;
  const rowH = 34;
  const height = categories.length * rowH + 10;
  const rows = categories.map((c, i) => {
    const y = 6 + i * rowH;
    const total = Math.max(c.total, 1);
    const pw = (c.passed / total) * barW;
    const fw = (c.failed / total) * barW;
    const sw = (c.skipped / total) * barW;
    const rate = c.passed + c.failed === 0 ? "skipped" : formatPercent(c.passRate, 0);
    const parts = [
      `<rect x="${labelW}" y="${y}" width="${barW}" height="22" rx="5" fill="#f1f5f9"/>`,
      pw > 0
        ? `<rect x="${labelW}" y="${y}" width="${pw.toFixed(1)}" height="22" rx="5" fill="${COLORS.pass}"><title>${c.passed} passed</title></rect>`
        : "",
      fw > 0
        ? `<rect x="${(labelW + pw).toFixed(1)}" y="${y}" width="${fw.toFixed(1)}" height="22" fill="${COLORS.fail}"><title>${c.failed} failed</title></rect>`
        : "",
      sw > 0
        ? `<rect x="${(labelW + pw + fw).toFixed(1)}" y="${y}" width="${sw.toFixed(1)}" height="22" fill="${COLORS.skip}"><title>${c.skipped} skipped</title></rect>`
        : "",
    ];
    return [
      text(labelW - 12, y + 16, c.title, `text-anchor="end" class="label"`),
      ...parts,
      text(labelW + barW + 12, y + 16, `${c.passed}/${c.total - c.skipped}`, `class="value"`),
      text(labelW + barW + 62, y + 16, rate, `class="${c.failed > 0 ? "value bad" : "value good"}"`),
    ].join("");
  });
  return svg(width, height, rows.join(""), "Pass rate per category");
}

/** A log-scale axis in ms covering [lo, hi], with 1-2-5 ticks. */
export function logScale(lo: number, hi: number, x0: number, x1: number) {
  const min = Math.max(0.1, lo);
  const max = Math.max(min * 10, hi);
  const a = Math.floor(Math.log10(min));
  const b = Math.ceil(Math.log10(max));
  const scale = (v: number) => x0 + ((Math.log10(Math.max(v, 10 ** a)) - a) / (b - a)) * (x1 - x0);
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) for (const m of [1, 2, 5]) if (m * 10 ** e <= 10 ** b) ticks.push(m * 10 ** e);
  return { scale, ticks };
}

function axis(ticks: number[], scale: (v: number) => number, top: number, bottom: number): string {
  return ticks
    .map((t) => {
      const x = scale(t);
      const major = Math.log10(t) % 1 === 0;
      return `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${COLORS.grid}" ${major ? "" : 'stroke-dasharray="2 3"'}/>${
        major || ticks.length < 10
          ? text(x, bottom + 14, tickLabel(t), `text-anchor="middle" class="tick"`)
          : ""
      }`;
    })
    .join("");
}

/** Round tick labels: 1 ms, 20 ms, 500 ms, 1 s, 10 s. */
function tickLabel(ms: number): string {
  if (ms < 1) return `${ms} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${ms / 1000} s`;
}

/** A stable pseudo-random jitter in [-1, 1] for sample dots, so the chart is reproducible. */
function jitter(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

export interface LatencyRow {
  label: string;
  summary: LatencySummary;
  samples?: number[];
}

/** Per operation: every sample as a dot, the interquartile box, the median and the p95 mark. */
export function latencyChart(rows: LatencyRow[], title = "Latency per operation", rowH = 46): string {
  const width = 960;
  const labelW = 170;
  const valueW = 200;
  const top = 8;
  const bottom = top + rows.length * rowH;
  const all = rows.flatMap((r) => [...(r.samples ?? []), r.summary.min, r.summary.max]).filter((v) => v > 0);
  const { scale, ticks } = logScale(Math.min(...all, 1), Math.max(...all, 10), labelW, width - valueW);
  const body = rows.map((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    const boxH = Math.min(20, rowH - 16);
    const s = r.summary;
    const samples = r.samples ?? [];
    const q1 = samples.length > 0 ? percentile(samples, 25) : s.p50;
    const q3 = samples.length > 0 ? percentile(samples, 75) : s.p50;
    const dots = samples
      .map(
        (v, k) =>
          `<circle cx="${scale(v).toFixed(1)}" cy="${(cy + jitter(k + i * 97) * 9).toFixed(1)}" r="2.6" fill="${COLORS.accent}" fill-opacity="0.35"/>`,
      )
      .join("");
    return [
      text(labelW - 12, cy + 4, r.label, `text-anchor="end" class="label"`),
      `<line x1="${scale(s.min).toFixed(1)}" y1="${cy}" x2="${scale(s.max).toFixed(1)}" y2="${cy}" stroke="${COLORS.muted}" stroke-width="1.2"/>`,
      `<rect x="${scale(q1).toFixed(1)}" y="${cy - boxH / 2}" width="${Math.max(2, scale(q3) - scale(q1)).toFixed(1)}" height="${boxH}" rx="3" fill="${COLORS.accentSoft}" stroke="${COLORS.accent}" stroke-width="1"><title>${escapeXml(`${r.label}: p25 ${formatMs(q1)}, p75 ${formatMs(q3)}`)}</title></rect>`,
      dots,
      `<line x1="${scale(s.p50).toFixed(1)}" y1="${cy - 13}" x2="${scale(s.p50).toFixed(1)}" y2="${cy + 13}" stroke="${COLORS.ink}" stroke-width="2.5"><title>p50 ${formatMs(s.p50)}</title></line>`,
      `<path d="M ${scale(s.p95).toFixed(1)} ${cy - 7} l 6 7 l -6 7 l -6 -7 z" fill="${COLORS.fail}"><title>p95 ${formatMs(s.p95)}</title></path>`,
      text(width - valueW + 14, cy - 2, `p50 ${formatMs(s.p50)} · p95 ${formatMs(s.p95)}`, `class="value"`),
      text(width - valueW + 14, cy + 13, `${s.count} samples · max ${formatMs(s.max)}`, `class="tick"`),
    ].join("");
  });
  return svg(width, bottom + 22, axis(ticks, scale, top, bottom) + body.join(""), title);
}

/** Throughput per number of callers, with the success rate on each bar. */
export function concurrencyChart(figures: ConcurrencyFigure[]): string {
  const width = 960;
  const labelW = 190;
  const valueW = 230;
  const barW = width - labelW - valueW;
  const rowH = 34;
  const max = Math.max(...figures.map((f) => f.throughput), 0.001);
  const body = figures.map((f, i) => {
    const y = 6 + i * rowH;
    const w = (f.throughput / max) * barW;
    const ok = f.successRate === 1;
    return [
      text(labelW - 12, y + 16, `${f.callers} callers`, `text-anchor="end" class="label"`),
      `<rect x="${labelW}" y="${y}" width="${Math.max(w, 2).toFixed(1)}" height="22" rx="5" fill="${ok ? COLORS.accent : COLORS.fail}"><title>${f.succeeded} of ${f.lifecycles} lifecycles succeeded</title></rect>`,
      text(labelW + barW + 12, y + 16, formatRate(f.throughput), `class="value"`),
      text(
        labelW + barW + 90,
        y + 16,
        `${formatPercent(f.successRate, 0)} ok · ${f.lifecycles} runs`,
        `class="${ok ? "value good" : "value bad"}"`,
      ),
    ].join("");
  });
  return svg(width, figures.length * rowH + 10, body.join(""), "Lifecycle throughput per number of callers");
}

/** Baseline p50 to current p50 per operation: grey dot, coloured dot, and the change. */
export function comparisonChart(changes: LatencyChange[], titles: Record<string, string> = {}): string {
  const rows = changes.filter((c) => c.before && c.after);
  if (rows.length === 0) return "";
  const width = 960;
  const labelW = 170;
  const valueW = 200;
  const rowH = 36;
  const top = 8;
  const bottom = top + rows.length * rowH;
  const values = rows.flatMap((c) => [c.before!.p50, c.after!.p50]);
  const { scale, ticks } = logScale(
    Math.min(...values) / 1.5,
    Math.max(...values) * 1.5,
    labelW,
    width - valueW,
  );
  const body = rows.map((c, i) => {
    const cy = top + i * rowH + rowH / 2;
    const b = scale(c.before!.p50);
    const a = scale(c.after!.p50);
    const color = c.verdict === "faster" ? COLORS.pass : c.verdict === "slower" ? COLORS.fail : COLORS.muted;
    return [
      text(labelW - 12, cy + 4, titles[c.operation] ?? c.operation, `text-anchor="end" class="label"`),
      `<line x1="${b.toFixed(1)}" y1="${cy}" x2="${a.toFixed(1)}" y2="${cy}" stroke="${color}" stroke-width="3" stroke-linecap="round"/>`,
      `<circle cx="${b.toFixed(1)}" cy="${cy}" r="6" fill="${COLORS.baseline}"><title>baseline p50 ${formatMs(c.before!.p50)}</title></circle>`,
      `<circle cx="${a.toFixed(1)}" cy="${cy}" r="6" fill="${color}"><title>this run p50 ${formatMs(c.after!.p50)}</title></circle>`,
      text(
        width - valueW + 14,
        cy + 4,
        `${c.verdict} ${c.p50Change === undefined ? "" : formatChange(c.p50Change)}`,
        `class="value ${c.verdict === "faster" ? "good" : c.verdict === "slower" ? "bad" : ""}"`,
      ),
    ].join("");
  });
  return svg(
    width,
    bottom + 22,
    axis(ticks, scale, top, bottom) + body.join(""),
    "p50 latency: baseline against this run",
  );
}

/** The guard's lifecycle limit over the run as a step line, with the calls in flight beneath it. */
export function limiterChart(points: readonly LimiterPoint[]): string {
  const width = 960;
  const left = 40;
  const right = 16;
  const top = 10;
  const bottom = 150;
  const end = Math.max(points.at(-1)?.atMs ?? 1, 1);
  const high = Math.max(1, ...points.map((p) => Math.max(p.limit ?? 0, p.inFlight + p.queued)));
  const x = (ms: number) => left + (ms / end) * (width - left - right);
  const y = (v: number) => bottom - (v / high) * (bottom - top);
  const step = (value: (p: LimiterPoint) => number) => {
    const path = points.map((p, i) => {
      const v = y(value(p)).toFixed(1);
      return i === 0 ? `M ${x(p.atMs).toFixed(1)} ${v}` : `H ${x(p.atMs).toFixed(1)} V ${v}`;
    });
    return `${path.join(" ")} H ${x(end).toFixed(1)}`;
  };
  const ticks = Array.from({ length: Math.min(high, 10) + 1 }, (_, i) =>
    Math.round((i * high) / Math.min(high, 10)),
  );
  const grid = [...new Set(ticks)]
    .map(
      (t) =>
        `<line x1="${left}" x2="${width - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${COLORS.grid}"/>${text(left - 6, y(t) + 4, String(t), `text-anchor="end" class="tick"`)}`,
    )
    .join("");
  const inFlight = `<path d="${step((p) => p.inFlight)} V ${bottom} H ${left} Z" fill="${COLORS.accentSoft}"><title>calls in flight</title></path>`;
  const withLimit = points.filter((p) => p.limit !== null);
  const limit = withLimit.length
    ? `<path d="${step((p) => p.limit ?? 0)}" fill="none" stroke="${COLORS.ink}" stroke-width="2"><title>lifecycle limit</title></path>`
    : "";
  const axisLabel = text(
    width - right,
    bottom + 16,
    `${(end / 1000).toFixed(0)} s`,
    `text-anchor="end" class="tick"`,
  );
  return svg(
    width,
    bottom + 24,
    grid + inFlight + limit + axisLabel,
    "The guard's lifecycle limit over the run",
  );
}

// `berth logs` of several services as Compose shows them: every line prefixed with its service
// (padded to one width), all services' lines in time order. The daemon's own timestamps
// (RFC 3339 with nanoseconds, one per line) order them; `--timestamps` keeps them in the output.
import { parseDuration } from "../model/duration.js";

interface LogLine {
  service: string;
  /** The daemon's timestamp as written, e.g. `2026-12-02T16:10:56.123456789Z`. */
  time: string;
  text: string;
}

/** Splits one container's timestamped output into lines; a line without a timestamp keeps the last one. */
export function parseTimestamped(service: string, output: string): LogLine[] {
  const lines: LogLine[] = [];
  let last = "";
  for (const raw of output.split("\n")) {
    if (raw === "") continue;
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$/s.exec(raw);
    if (match) {
      last = match[1]!;
      lines.push({ service, time: last, text: match[2]! });
    } else {
      lines.push({ service, time: last, text: raw });
    }
  }
  return lines;
}

/** Sort key with the fraction padded to nanoseconds, so text order is time order (UTC stamps). */
function sortKey(time: string): string {
  const match = /^([^.Z+]+)(?:\.(\d+))?/.exec(time);
  if (!match) return time;
  return `${match[1]}.${(match[2] ?? "").padEnd(9, "0")}`;
}

/** Every line in time order; lines with the same time keep their service's order. */
export function interleave(lines: LogLine[]): LogLine[] {
  return lines
    .map((line, index) => ({ line, index, key: sortKey(line.time) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index))
    .map((entry) => entry.line);
}

interface RenderOptions {
  timestamps?: boolean;
  /** Leave out the `service |` prefix. */
  noPrefix?: boolean;
  /** Width the service names are padded to (default: the longest in `lines`). */
  width?: number;
}

export function renderLine(line: LogLine, options: RenderOptions & { width: number }): string {
  const prefix = options.noPrefix ? "" : `${line.service.padEnd(options.width)} | `;
  return `${prefix}${options.timestamps && line.time ? `${line.time} ` : ""}${line.text}`;
}

export function renderLines(lines: LogLine[], options: RenderOptions = {}): string {
  const width = options.width ?? Math.max(0, ...lines.map((l) => l.service.length));
  return lines.map((line) => `${renderLine(line, { ...options, width })}\n`).join("");
}

/** `--since`: an RFC 3339 time, a Unix time in seconds, or a duration back from now (10m, 1h30m); Unix seconds. */
export function parseSince(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.floor(Number(value));
  if (/^\d{4}-\d\d-\d\d/.test(value)) {
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.floor(date / 1000);
  }
  return Math.floor((now - parseDuration(value, { where: "--since" })) / 1000);
}

// The guard's debug log: one entry per API call (operation, class, time queued, duration,
// outcome, retries) and one per limit change. Off by default; on with `--verbose` or
// BERTH_LOG=debug. Readable lines or JSON lines, to stderr or appended to a file.
import { closeSync, openSync, writeSync } from "node:fs";
import { ConfigError } from "../engine/errors.js";
import type { OperationClass } from "../engine/operations.js";
import type { LogSettings } from "./config.js";
import type { LimitChangeEvent } from "./limiter.js";
import { formatMs } from "./metrics.js";

export interface CallLogEntry {
  operation: string;
  class: OperationClass;
  resource?: string;
  /** Time spent waiting for limiter slots, over all attempts. */
  queuedMs: number;
  /** From the first attempt's dispatch to the end, backoffs included. */
  durationMs: number;
  outcome: "ok" | "error";
  retries: number;
  errorCode?: string;
  /** Set when a create was answered by finding the container after a broken connection. */
  recovered?: boolean;
}

/** One named phase of a long operation (`up`, `down`) and how long it took. */
export interface PhaseLogEntry {
  scope: string;
  phase: string;
  durationMs: number;
  outcome: "ok" | "error";
  /** What the phase worked on (a service name), when it is per service. */
  detail?: string;
}

export interface GuardLog {
  readonly enabled: boolean;
  call(entry: CallLogEntry): void;
  phase(entry: PhaseLogEntry): void;
  limit(change: LimitChangeEvent): void;
  /** A retry about to happen, so a slow call is explained while it is still running. */
  retry(entry: { operation: string; attempt: number; delayMs: number; errorCode: string }): void;
  close(): void;
}

/** Where log lines go: a function taking one line (newline included). */
export type LogSink = (line: string) => void;

const SILENT: GuardLog = { enabled: false, call() {}, phase() {}, limit() {}, retry() {}, close() {} };

function clock(date: Date): string {
  return date.toISOString().slice(11, 23);
}

function fileSink(path: string): { write: LogSink; close: () => void } {
  let fd: number;
  try {
    fd = openSync(path, "a");
  } catch (error) {
    throw new ConfigError(`Cannot open the log file ${path}: ${(error as Error).message}`, {
      resource: "BERTH_LOG_FILE",
      hint: "Point BERTH_LOG_FILE (or the `file` log option) at a writable path.",
      cause: error,
    });
  }
  return {
    // Synchronous: the last lines before a crash or process.exit are the ones that matter.
    write: (line) => void writeSync(fd, line),
    close: () => closeSync(fd),
  };
}

function textOfCall(e: CallLogEntry, at: Date): string {
  const parts = [
    `[berth] ${clock(at)} ${e.operation} ${e.class}`,
    `queued=${formatMs(e.queuedMs)}`,
    `took=${formatMs(e.durationMs)}`,
    e.outcome === "ok" ? (e.recovered ? "ok(recovered)" : "ok") : `error=${e.errorCode ?? "unknown"}`,
    `retries=${e.retries}`,
  ];
  if (e.resource) parts.push(`resource=${e.resource.length > 24 ? e.resource.slice(0, 12) : e.resource}`);
  return parts.join(" ");
}

function textOfLimit(c: LimitChangeEvent): string {
  const why =
    c.reason === "gradient"
      ? `gradient ${c.gradient?.toFixed(2)}, latency ratio ${c.ratio?.toFixed(2)} over ${c.samples} samples`
      : `after ${c.reason === "error" ? "an error" : "a timeout"}`;
  return `[berth] ${clock(c.at)} limit ${c.from} -> ${c.to} (${why})`;
}

/** Creates the log; `sink` overrides stderr and the file (for tests and embedding). */
export function createGuardLog(settings: LogSettings, sink?: LogSink): GuardLog {
  if (settings.level === "off") return SILENT;
  const target = sink
    ? { write: sink, close: () => {} }
    : settings.file
      ? fileSink(settings.file)
      : { write: (line: string) => void process.stderr.write(line), close: () => {} };
  const json = settings.format === "json";
  const emit = (record: Record<string, unknown>, text: string) =>
    target.write(`${json ? JSON.stringify(record) : text}\n`);
  return {
    enabled: true,
    call(entry) {
      const at = new Date();
      emit({ time: at.toISOString(), event: "call", ...entry }, textOfCall(entry, at));
    },
    phase(entry) {
      const at = new Date();
      emit(
        { time: at.toISOString(), event: "phase", ...entry },
        `[berth] ${clock(at)} phase ${entry.scope}.${entry.phase}${entry.detail ? ` ${entry.detail}` : ""} took=${formatMs(entry.durationMs)}${entry.outcome === "ok" ? "" : " error"}`,
      );
    },
    limit(change) {
      const { at, ...rest } = change;
      emit({ time: at.toISOString(), event: "limit", ...rest }, textOfLimit(change));
    },
    retry(entry) {
      const at = new Date();
      emit(
        { time: at.toISOString(), event: "retry", ...entry },
        `[berth] ${clock(at)} ${entry.operation} retry ${entry.attempt} in ${formatMs(entry.delayMs)} after ${entry.errorCode}`,
      );
    },
    close: target.close,
  };
}

// The `x-berth` service extension: how berth decides a service without a Docker healthcheck is
// ready (port, log line, HTTP status, command) and how long it may take.
//
//   x-berth:
//     timeout: 60s
//     wait:
//       - port: 8080
//       - log: "ready to accept connections"       # or {pattern, times}
//       - http: { port: 8080, path: /health, status: 200 }
//       - command: "pg_isready -U app"             # a string runs in /bin/sh -c
//       - healthcheck
//     reset:                                       # run before a reused environment is handed over
//       - redis-cli FLUSHALL                       # a string runs in /bin/sh -c; a list is exec form

import type { BerthServiceExtension, WaitStrategySpec } from "../../model/compose.js";
import { parseDuration } from "../../model/duration.js";
import { type FileContext, failAt, parseAt } from "./file-context.js";
import type { PathSegment } from "./path.js";
import type { RawBerthExtension } from "./schema.js";

type RawStep = Exclude<NonNullable<RawBerthExtension["wait"]>, unknown[]>;

/** Every kind's field, each optional: the schema guarantees the one present has its type. */
interface StepFields {
  healthcheck?: unknown;
  port?: number;
  log?: string | { pattern: string; times?: number };
  http?: number | { port: number; path?: string; status?: number };
  command?: string | string[];
}

function checkPort(context: FileContext, path: PathSegment[], port: number): number {
  if (port < 1 || port > 65535)
    failAt(context, path, `port ${port} is out of range 1-65535`, { value: port });
  return port;
}

function parseLog(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<StepFields["log"]>,
): WaitStrategySpec {
  const log = typeof raw === "string" ? { pattern: raw } : raw;
  try {
    new RegExp(log.pattern);
  } catch (error) {
    failAt(context, path, `invalid log pattern: ${(error as Error).message}`, { value: log.pattern });
  }
  if (log.times === undefined) return { kind: "log", pattern: log.pattern };
  if (log.times < 1) failAt(context, [...path, "times"], "times must be 1 or more", { value: log.times });
  return { kind: "log", pattern: log.pattern, times: log.times };
}

function parseHttp(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<StepFields["http"]>,
): WaitStrategySpec {
  const http = typeof raw === "number" ? { port: raw } : raw;
  const urlPath = http.path ?? "/";
  if (!urlPath.startsWith("/"))
    failAt(context, [...path, "path"], "an HTTP path starts with /", { value: urlPath });
  if (http.status !== undefined && (http.status < 100 || http.status > 599)) {
    failAt(context, [...path, "status"], "an HTTP status is between 100 and 599", { value: http.status });
  }
  const spec: WaitStrategySpec = { kind: "http", port: checkPort(context, path, http.port), path: urlPath };
  if (http.status !== undefined) spec.status = http.status;
  return spec;
}

function parseStep(context: FileContext, path: PathSegment[], step: RawStep): WaitStrategySpec {
  if (step === "healthcheck") return { kind: "healthcheck" };
  const kinds = Object.keys(step);
  if (kinds.length !== 1) {
    return failAt(
      context,
      path,
      `a wait step has exactly one kind, this one has ${kinds.join(", ") || "none"}`,
      {
        value: step,
      },
    );
  }
  const fields = step as StepFields;
  if (fields.port !== undefined)
    return { kind: "port", port: checkPort(context, [...path, "port"], fields.port) };
  if (fields.log !== undefined) return parseLog(context, [...path, "log"], fields.log);
  if (fields.http !== undefined) return parseHttp(context, [...path, "http"], fields.http);
  if (fields.command !== undefined) {
    const command = fields.command;
    if (command.length === 0)
      failAt(context, [...path, "command"], "the wait command is empty", { value: command });
    return { kind: "command", command: typeof command === "string" ? ["/bin/sh", "-c", command] : command };
  }
  return { kind: "healthcheck" };
}

export function parseBerthExtension(
  context: FileContext,
  path: PathSegment[],
  raw: RawBerthExtension,
): BerthServiceExtension {
  const out: BerthServiceExtension = {};
  if (raw.wait !== undefined) {
    const steps = Array.isArray(raw.wait) ? raw.wait : [raw.wait];
    const base = Array.isArray(raw.wait) ? (i: number) => [...path, "wait", i] : () => [...path, "wait"];
    out.wait = steps.map((step, i) => parseStep(context, base(i), step));
  }
  if (raw.timeout !== undefined) {
    const timeout = raw.timeout;
    out.timeoutMs = parseAt(context, [...path, "timeout"], () => parseDuration(timeout));
  }
  if (raw.allow !== undefined) out.allow = [...raw.allow];
  if (raw.reset !== undefined) {
    const commands = typeof raw.reset === "string" ? [raw.reset] : raw.reset;
    const base =
      typeof raw.reset === "string" ? () => [...path, "reset"] : (i: number) => [...path, "reset", i];
    out.reset = commands.map((command, i) => {
      if (command.length === 0 || (typeof command === "string" && command.trim() === "")) {
        failAt(context, base(i), "the reset command is empty", { value: command });
      }
      return typeof command === "string" ? ["/bin/sh", "-c", command] : [...command];
    });
  }
  return out;
}

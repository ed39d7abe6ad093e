// The guard's configuration: options from code, then environment variables, then defaults,
// validated up front with messages that name the option or variable and the value refused.
import { ConfigError } from "../engine/errors.js";
import { DEFAULT_GRADIENT, type GradientConfig } from "./gradient.js";

export type LimiterMode = "adaptive" | "fixed" | "off";
export const LIMITER_MODES: readonly LimiterMode[] = ["adaptive", "fixed", "off"];

export type Env = Record<string, string | undefined>;

export interface LimiterOptions extends Partial<GradientConfig> {
  /** `adaptive` (default), `fixed` or `off`. */
  mode?: LimiterMode;
  /** fixed: lifecycle calls at once (default 3). */
  maxConcurrent?: number;
  /** fixed: milliseconds between the starts of two lifecycle calls (default 500). */
  minIntervalMs?: number;
  /** Cheap reads' own budget of calls at once (default 16); `Infinity` lets reads bypass. */
  readConcurrency?: number;
}

export interface AdaptiveLimiterSettings extends GradientConfig {
  mode: "adaptive";
  readConcurrency: number;
}

export interface FixedLimiterSettings {
  mode: "fixed";
  maxConcurrent: number;
  minIntervalMs: number;
  readConcurrency: number;
}

export interface OffLimiterSettings {
  mode: "off";
}

/** A limiter configuration with every default filled in and every value checked. */
export type LimiterSettings = AdaptiveLimiterSettings | FixedLimiterSettings | OffLimiterSettings;

export interface RetryOptions {
  /** Attempts in all, the first included (default 5; 1 turns retries off). */
  maxAttempts?: number;
  /** The first backoff's upper bound in milliseconds (default 100). */
  baseDelayMs?: number;
  /** No backoff is longer than this (default 5000 ms). */
  maxDelayMs?: number;
  /** No retry starts later than this after the call began (default 60000 ms). */
  deadlineMs?: number;
}

export type RetrySettings = Required<RetryOptions>;

export type LogFormat = "text" | "json";

export interface LogOptions {
  /** `debug` logs every call and limit change; `off` (default) logs nothing. */
  level?: "debug" | "off";
  /** `text` (default): readable lines; `json`: one JSON object a line. */
  format?: LogFormat;
  /** Append to this file instead of writing to stderr. */
  file?: string;
}

export type LogSettings = Required<Omit<LogOptions, "file">> & { file?: string };

export const DEFAULT_FIXED = { maxConcurrent: 3, minIntervalMs: 500 } as const;
export const DEFAULT_READ_CONCURRENCY = 16;
export const DEFAULT_RETRY: RetrySettings = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  deadlineMs: 60_000,
};

/** Environment variables the guard reads, by the option they set. */
export const GUARD_ENV = {
  mode: "BERTH_LIMITER",
  maxConcurrent: "BERTH_LIMITER_MAX_CONCURRENT",
  minIntervalMs: "BERTH_LIMITER_MIN_INTERVAL_MS",
  initialLimit: "BERTH_LIMITER_INITIAL",
  minLimit: "BERTH_LIMITER_MIN",
  maxLimit: "BERTH_LIMITER_MAX",
  tolerance: "BERTH_LIMITER_TOLERANCE",
  readConcurrency: "BERTH_LIMITER_READ_CONCURRENCY",
  maxAttempts: "BERTH_RETRY_MAX_ATTEMPTS",
  deadlineMs: "BERTH_RETRY_DEADLINE_MS",
  logLevel: "BERTH_LOG",
  logFormat: "BERTH_LOG_FORMAT",
  logFile: "BERTH_LOG_FILE",
} as const;

function refuse(name: string, expected: string, value: unknown, hint?: string): never {
  throw new ConfigError(`Expected \`${name}\` to be ${expected}, got \`${String(value)}\``, {
    resource: name,
    hint,
  });
}

function wholeFrom(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    refuse(name, `a whole number from ${min} up`, value);
  }
  return value;
}

function numberFrom(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    refuse(name, `a number from ${min} up`, value);
  }
  return value;
}

function fraction(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    refuse(name, "a number above 0 and at most 1", value);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    refuse(name, `one of ${allowed.map((a) => `\`${a}\``).join(", ")}`, value);
  }
  return value as T;
}

/** Reads a numeric environment variable; an empty or unset one is absent. */
function envNumber(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (raw.toLowerCase() === "unlimited" || raw.toLowerCase() === "infinity") return Number.POSITIVE_INFINITY;
  const n = Number(raw);
  if (!Number.isFinite(n)) refuse(name, "a number", raw);
  return n;
}

function envString(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

/** Picks the option, else the environment variable (named in errors), else nothing. */
function pick<K extends keyof typeof GUARD_ENV>(
  key: K,
  option: number | undefined,
  env: Env,
): { name: string; value: number | undefined } {
  if (option !== undefined) return { name: key, value: option };
  const name = GUARD_ENV[key];
  return { name, value: envNumber(env, name) };
}

function readBudget(options: LimiterOptions, env: Env): number {
  const { name, value } = pick("readConcurrency", options.readConcurrency, env);
  if (value === undefined) return DEFAULT_READ_CONCURRENCY;
  if (value === Number.POSITIVE_INFINITY) return value;
  return wholeFrom(name, value, 1);
}

/** Fills in and checks a limiter configuration: options first, then `env`, then defaults. */
export function resolveLimiterSettings(
  input: LimiterOptions | LimiterMode | undefined,
  env: Env = {},
): LimiterSettings {
  const options: LimiterOptions = typeof input === "string" ? { mode: input } : { ...input };
  const fixedGiven = options.maxConcurrent !== undefined || options.minIntervalMs !== undefined;
  const envFixedGiven =
    envString(env, GUARD_ENV.maxConcurrent) !== undefined ||
    envString(env, GUARD_ENV.minIntervalMs) !== undefined;
  let mode: LimiterMode;
  if (options.mode !== undefined) mode = oneOf("mode", options.mode, LIMITER_MODES);
  else if (envString(env, GUARD_ENV.mode) !== undefined)
    mode = oneOf(GUARD_ENV.mode, envString(env, GUARD_ENV.mode)!.toLowerCase(), LIMITER_MODES);
  else mode = fixedGiven || envFixedGiven ? "fixed" : "adaptive";

  if (mode !== "fixed" && fixedGiven) {
    const which = options.maxConcurrent !== undefined ? "maxConcurrent" : "minIntervalMs";
    throw new ConfigError(`\`${which}\` belongs to the fixed limiter, but \`mode\` is \`${mode}\``, {
      resource: which,
      hint:
        mode === "adaptive"
          ? "Use `maxLimit` to cap the adaptive limit, or set `mode: 'fixed'`."
          : "Remove it, or set `mode: 'fixed'`.",
    });
  }
  if (mode === "off") return { mode };
  if (mode === "fixed") {
    const max = pick("maxConcurrent", options.maxConcurrent, env);
    const interval = pick("minIntervalMs", options.minIntervalMs, env);
    return {
      mode,
      maxConcurrent: wholeFrom(max.name, max.value ?? DEFAULT_FIXED.maxConcurrent, 1),
      minIntervalMs: numberFrom(interval.name, interval.value ?? DEFAULT_FIXED.minIntervalMs, 0),
      readConcurrency: readBudget(options, env),
    };
  }

  const min = pick("minLimit", options.minLimit, env);
  const max = pick("maxLimit", options.maxLimit, env);
  const initial = pick("initialLimit", options.initialLimit, env);
  const tolerance = pick("tolerance", options.tolerance, env);
  const minLimit = wholeFrom(min.name, min.value ?? DEFAULT_GRADIENT.minLimit, 1);
  const maxLimit = wholeFrom(max.name, max.value ?? Math.max(DEFAULT_GRADIENT.maxLimit, minLimit), 1);
  if (maxLimit < minLimit) {
    refuse(max.name, `a whole number from \`minLimit\` (${minLimit}) up`, maxLimit);
  }
  const initialDefault = Math.min(maxLimit, Math.max(minLimit, DEFAULT_GRADIENT.initialLimit));
  const initialLimit = wholeFrom(initial.name, initial.value ?? initialDefault, 1);
  if (initialLimit < minLimit || initialLimit > maxLimit) {
    refuse(
      initial.name,
      `a whole number from ${minLimit} to ${maxLimit} (\`minLimit\` to \`maxLimit\`)`,
      initialLimit,
    );
  }
  return {
    mode,
    initialLimit,
    minLimit,
    maxLimit,
    tolerance: numberFrom(tolerance.name, tolerance.value ?? DEFAULT_GRADIENT.tolerance, 1),
    smoothing: fraction("smoothing", options.smoothing ?? DEFAULT_GRADIENT.smoothing),
    windowMs: numberFrom("windowMs", options.windowMs ?? DEFAULT_GRADIENT.windowMs, 1),
    minWindowSamples: wholeFrom(
      "minWindowSamples",
      options.minWindowSamples ?? DEFAULT_GRADIENT.minWindowSamples,
      1,
    ),
    longWindow: wholeFrom("longWindow", options.longWindow ?? DEFAULT_GRADIENT.longWindow, 1),
    errorBackoff: fraction("errorBackoff", options.errorBackoff ?? DEFAULT_GRADIENT.errorBackoff),
    probeTimeoutMs: numberFrom(
      "probeTimeoutMs",
      options.probeTimeoutMs ?? DEFAULT_GRADIENT.probeTimeoutMs,
      0,
    ),
    readConcurrency: readBudget(options, env),
  };
}

/** Fills in and checks the retry policy; `false` means a single attempt. */
export function resolveRetrySettings(input: RetryOptions | false | undefined, env: Env = {}): RetrySettings {
  if (input === false) return { ...DEFAULT_RETRY, maxAttempts: 1 };
  const options = input ?? {};
  const attempts = pick("maxAttempts", options.maxAttempts, env);
  const deadline = pick("deadlineMs", options.deadlineMs, env);
  const baseDelayMs = numberFrom("baseDelayMs", options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs, 0);
  const maxDelayMs = numberFrom("maxDelayMs", options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs, 0);
  if (maxDelayMs < baseDelayMs)
    refuse("maxDelayMs", `a number from \`baseDelayMs\` (${baseDelayMs}) up`, maxDelayMs);
  return {
    maxAttempts: wholeFrom(attempts.name, attempts.value ?? DEFAULT_RETRY.maxAttempts, 1),
    baseDelayMs,
    maxDelayMs,
    deadlineMs: numberFrom(deadline.name, deadline.value ?? DEFAULT_RETRY.deadlineMs, 0),
  };
}

/** Fills in and checks the log settings; `true` means debug, `verbose` forces debug. */
export function resolveLogSettings(
  input: LogOptions | boolean | undefined,
  env: Env = {},
  verbose = false,
): LogSettings {
  const options: LogOptions = typeof input === "boolean" ? { level: input ? "debug" : "off" } : { ...input };
  const envLevel = envString(env, GUARD_ENV.logLevel)?.toLowerCase();
  const level = verbose
    ? "debug"
    : options.level !== undefined
      ? oneOf("level", options.level, ["debug", "off"] as const)
      : envLevel !== undefined
        ? oneOf(GUARD_ENV.logLevel, envLevel, ["debug", "off"] as const)
        : "off";
  const envFormat = envString(env, GUARD_ENV.logFormat)?.toLowerCase();
  const format =
    options.format !== undefined
      ? oneOf("format", options.format, ["text", "json"] as const)
      : envFormat !== undefined
        ? oneOf(GUARD_ENV.logFormat, envFormat, ["text", "json"] as const)
        : "text";
  const file = options.file ?? envString(env, GUARD_ENV.logFile);
  return file === undefined ? { level, format } : { level, format, file };
}

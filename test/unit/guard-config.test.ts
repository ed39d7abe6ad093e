import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { resolveLimiterSettings, resolveLogSettings, resolveRetrySettings } from "../../src/guard/config.js";
import { DEFAULT_GRADIENT } from "../../src/guard/gradient.js";
import { createGuardLog } from "../../src/guard/log.js";
import { caught } from "../support/caught.js";

function refusal(run: () => unknown): ConfigError {
  const error = caught<ConfigError>(run);
  expect(error).toBeInstanceOf(ConfigError);
  return error;
}

describe("limiter settings", () => {
  it("defaults to adaptive with the law's defaults and a read budget of 16", () => {
    expect(resolveLimiterSettings(undefined)).toEqual({
      mode: "adaptive",
      ...DEFAULT_GRADIENT,
      readConcurrency: 16,
    });
  });

  it("expresses the old fixed limiter", () => {
    expect(resolveLimiterSettings({ mode: "fixed", maxConcurrent: 3, minIntervalMs: 500 })).toEqual({
      mode: "fixed",
      maxConcurrent: 3,
      minIntervalMs: 500,
      readConcurrency: 16,
    });
    expect(resolveLimiterSettings("fixed")).toMatchObject({ maxConcurrent: 3, minIntervalMs: 500 });
  });

  it("takes the fixed mode when only its numbers are given", () => {
    expect(resolveLimiterSettings({ maxConcurrent: 2 })).toMatchObject({ mode: "fixed", maxConcurrent: 2 });
    expect(resolveLimiterSettings({}, { BERTH_LIMITER_MIN_INTERVAL_MS: "250" })).toMatchObject({
      mode: "fixed",
      minIntervalMs: 250,
    });
  });

  it("reads the environment, with options taking precedence", () => {
    const env = {
      BERTH_LIMITER: "fixed",
      BERTH_LIMITER_MAX_CONCURRENT: "5",
      BERTH_LIMITER_MIN_INTERVAL_MS: "100",
    };
    expect(resolveLimiterSettings(undefined, env)).toMatchObject({
      mode: "fixed",
      maxConcurrent: 5,
      minIntervalMs: 100,
    });
    expect(resolveLimiterSettings({ maxConcurrent: 2 }, env)).toMatchObject({
      maxConcurrent: 2,
      minIntervalMs: 100,
    });
    expect(resolveLimiterSettings({ mode: "off" }, env)).toEqual({ mode: "off" });
    expect(resolveLimiterSettings(undefined, { BERTH_LIMITER: "OFF" })).toEqual({ mode: "off" });
    expect(
      resolveLimiterSettings(undefined, {
        BERTH_LIMITER_MIN: "2",
        BERTH_LIMITER_MAX: "8",
        BERTH_LIMITER_INITIAL: "4",
      }),
    ).toMatchObject({ mode: "adaptive", minLimit: 2, maxLimit: 8, initialLimit: 4 });
    expect(resolveLimiterSettings(undefined, { BERTH_LIMITER_READ_CONCURRENCY: "unlimited" })).toMatchObject({
      readConcurrency: Number.POSITIVE_INFINITY,
    });
  });

  it("refuses bad numbers in the p-queue manner, naming the option or the variable", () => {
    expect(refusal(() => resolveLimiterSettings({ mode: "fixed", maxConcurrent: 0 })).message).toBe(
      "Expected `maxConcurrent` to be a whole number from 1 up, got `0`",
    );
    expect(refusal(() => resolveLimiterSettings({ mode: "fixed", maxConcurrent: 2.5 })).message).toBe(
      "Expected `maxConcurrent` to be a whole number from 1 up, got `2.5`",
    );
    expect(refusal(() => resolveLimiterSettings({ mode: "fixed", minIntervalMs: -1 })).message).toBe(
      "Expected `minIntervalMs` to be a number from 0 up, got `-1`",
    );
    const env = refusal(() =>
      resolveLimiterSettings(undefined, { BERTH_LIMITER: "fixed", BERTH_LIMITER_MAX_CONCURRENT: "0" }),
    );
    expect(env.message).toBe(
      "Expected `BERTH_LIMITER_MAX_CONCURRENT` to be a whole number from 1 up, got `0`",
    );
    expect(env.resource).toBe("BERTH_LIMITER_MAX_CONCURRENT");
    expect(env.exitCode).toBe(2);
    expect(
      refusal(() => resolveLimiterSettings(undefined, { BERTH_LIMITER_MAX_CONCURRENT: "three" })).message,
    ).toBe("Expected `BERTH_LIMITER_MAX_CONCURRENT` to be a number, got `three`");
  });

  it("refuses an unknown mode and lists the known ones", () => {
    expect(refusal(() => resolveLimiterSettings(undefined, { BERTH_LIMITER: "fast" })).message).toBe(
      "Expected `BERTH_LIMITER` to be one of `adaptive`, `fixed`, `off`, got `fast`",
    );
    expect(refusal(() => resolveLimiterSettings({ mode: "turbo" as "off" })).message).toContain("`mode`");
  });

  it("refuses adaptive bounds that contradict each other", () => {
    expect(refusal(() => resolveLimiterSettings({ minLimit: 8, maxLimit: 4 })).message).toBe(
      "Expected `maxLimit` to be a whole number from `minLimit` (8) up, got `4`",
    );
    expect(refusal(() => resolveLimiterSettings({ initialLimit: 20, maxLimit: 10 })).message).toBe(
      "Expected `initialLimit` to be a whole number from 1 to 10 (`minLimit` to `maxLimit`), got `20`",
    );
    expect(refusal(() => resolveLimiterSettings({ tolerance: 0.5 })).message).toBe(
      "Expected `tolerance` to be a number from 1 up, got `0.5`",
    );
    expect(refusal(() => resolveLimiterSettings({ smoothing: 0 })).message).toBe(
      "Expected `smoothing` to be a number above 0 and at most 1, got `0`",
    );
  });

  it("refuses fixed-mode numbers with another mode, and says what to use", () => {
    const error = refusal(() => resolveLimiterSettings({ mode: "adaptive", maxConcurrent: 3 }));
    expect(error.message).toBe("`maxConcurrent` belongs to the fixed limiter, but `mode` is `adaptive`");
    expect(error.hint).toContain("maxLimit");
  });
});

describe("retry settings", () => {
  it("defaults to 5 attempts, 100 ms base, 5 s cap, 60 s deadline", () => {
    expect(resolveRetrySettings(undefined)).toEqual({
      maxAttempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 5_000,
      deadlineMs: 60_000,
    });
    expect(resolveRetrySettings(false).maxAttempts).toBe(1);
    expect(resolveRetrySettings(undefined, { BERTH_RETRY_MAX_ATTEMPTS: "2" }).maxAttempts).toBe(2);
  });

  it("refuses a cap below the base and attempts below 1", () => {
    expect(refusal(() => resolveRetrySettings({ baseDelayMs: 100, maxDelayMs: 10 })).message).toBe(
      "Expected `maxDelayMs` to be a number from `baseDelayMs` (100) up, got `10`",
    );
    expect(refusal(() => resolveRetrySettings({ maxAttempts: 0 })).message).toBe(
      "Expected `maxAttempts` to be a whole number from 1 up, got `0`",
    );
  });
});

describe("log settings and output", () => {
  it("is off by default, on with BERTH_LOG=debug or verbose, json with BERTH_LOG_FORMAT", () => {
    expect(resolveLogSettings(undefined)).toEqual({ level: "off", format: "text" });
    expect(resolveLogSettings(undefined, { BERTH_LOG: "debug" }).level).toBe("debug");
    expect(resolveLogSettings(undefined, { BERTH_LOG: "off" }, true).level).toBe("debug");
    expect(resolveLogSettings(true, { BERTH_LOG_FORMAT: "json", BERTH_LOG_FILE: "/tmp/x.log" })).toEqual({
      level: "debug",
      format: "json",
      file: "/tmp/x.log",
    });
    expect(refusal(() => resolveLogSettings(undefined, { BERTH_LOG: "verbose" })).message).toBe(
      "Expected `BERTH_LOG` to be one of `debug`, `off`, got `verbose`",
    );
  });

  it("writes readable lines and JSON lines for calls and limit changes", () => {
    const lines: string[] = [];
    const text = createGuardLog({ level: "debug", format: "text" }, (l) => lines.push(l));
    text.call({
      operation: "container.start",
      class: "lifecycle",
      resource: "web",
      queuedMs: 12,
      durationMs: 153.4,
      outcome: "ok",
      retries: 1,
    });
    text.limit({ from: 4, to: 6, reason: "gradient", ratio: 1.1, gradient: 1, samples: 9, at: new Date() });
    expect(lines[0]).toMatch(
      /^\[berth\] \d\d:\d\d:\d\d\.\d{3} container\.start lifecycle queued=12ms took=153ms ok retries=1 resource=web\n$/,
    );
    expect(lines[1]).toMatch(/limit 4 -> 6 \(gradient 1\.00, latency ratio 1\.10 over 9 samples\)\n$/);

    const json: string[] = [];
    const log = createGuardLog({ level: "debug", format: "json" }, (l) => json.push(l));
    log.limit({ from: 6, to: 4, reason: "error", at: new Date("2026-01-01T00:00:00Z") });
    expect(JSON.parse(json[0]!)).toEqual({
      time: "2026-01-01T00:00:00.000Z",
      event: "limit",
      from: 6,
      to: 4,
      reason: "error",
    });
  });

  it("appends to BERTH_LOG_FILE, and refuses a file it cannot open", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-log-"));
    try {
      const file = join(dir, "guard.log");
      const log = createGuardLog({ level: "debug", format: "json", file });
      log.retry({ operation: "container.remove", attempt: 1, delayMs: 50, errorCode: "BERTH_TRANSIENT" });
      log.close();
      expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ event: "retry", attempt: 1 });
      expect(
        refusal(() => createGuardLog({ level: "debug", format: "text", file: join(dir, "no/such/dir.log") }))
          .resource,
      ).toBe("BERTH_LOG_FILE");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The rules of early healthcheck readiness: berth's exec back-off (bounded by the cap and by
// Docker's own interval), what it execs, and where Docker's start_interval is used instead.
import { describe, expect, it } from "vitest";
import { HEALTH_EXEC_CAP, healthExecDelays, healthExecPlan } from "../../src/lifecycle/wait/health-exec.js";
import {
  BERTH_START_INTERVAL_MS,
  readinessExecPlan,
  startIntervalToAdd,
  supportsStartInterval,
} from "../../src/stack/readiness.js";

const NS = 1_000_000;

describe("the exec back-off", () => {
  it("probes at once, then 50, 100, 200 ms and on, while shorter than Docker's interval", () => {
    expect(healthExecDelays(1_000)).toEqual([0, 50, 100, 200, 400, 800]);
    expect(healthExecDelays(30)).toEqual([0]);
    expect(healthExecDelays(401)).toEqual([0, 50, 100, 200, 400]);
  });
  it("never runs more than the cap, however long the interval", () => {
    expect(healthExecDelays(3_600_000)).toHaveLength(HEALTH_EXEC_CAP);
    expect(healthExecDelays(3_600_000).at(-1)).toBe(50 * 2 ** (HEALTH_EXEC_CAP - 2));
    expect(healthExecDelays(3_600_000, 3)).toEqual([0, 50, 100]);
  });
});

describe("what berth execs", () => {
  it("runs CMD as given and CMD-SHELL through the container's shell", () => {
    expect(healthExecPlan({ Test: ["CMD", "pg_isready", "-q"], Interval: 2_000 * NS }, undefined)).toEqual({
      command: ["pg_isready", "-q"],
      intervalMs: 2_000,
      timeoutMs: 30_000,
    });
    expect(
      healthExecPlan({ Test: ["CMD-SHELL", "curl -f localhost"], Timeout: 5_000 * NS }, undefined),
    ).toEqual({
      command: ["/bin/sh", "-c", "curl -f localhost"],
      intervalMs: 30_000,
      timeoutMs: 5_000,
    });
    expect(healthExecPlan({ Test: ["CMD-SHELL", "true"] }, ["/bin/bash", "-lc"])?.command).toEqual([
      "/bin/bash",
      "-lc",
      "true",
    ]);
  });
  it("runs nothing for NONE, an empty test, or no healthcheck", () => {
    expect(healthExecPlan({ Test: ["NONE"] }, undefined)).toBeUndefined();
    expect(healthExecPlan({ Test: ["CMD"] }, undefined)).toBeUndefined();
    expect(healthExecPlan(undefined, undefined)).toBeUndefined();
  });
});

describe("start_interval where Docker has it", () => {
  it("knows API 1.44 and later", () => {
    expect(supportsStartInterval("1.41")).toBe(false);
    expect(supportsStartInterval("1.44")).toBe(true);
    expect(supportsStartInterval("1.47")).toBe(true);
    expect(supportsStartInterval("")).toBe(false);
  });
  it("adds a start_interval only within a start period, when the file gives none, on API >= 1.44", () => {
    const test = ["CMD", "true"];
    expect(startIntervalToAdd({ test, startPeriodMs: 10_000 }, "1.44")).toBe(BERTH_START_INTERVAL_MS);
    expect(startIntervalToAdd({ test, startPeriodMs: 10_000 }, "1.41")).toBeUndefined();
    expect(startIntervalToAdd({ test }, "1.44")).toBeUndefined();
    expect(
      startIntervalToAdd({ test, startPeriodMs: 10_000, startIntervalMs: 2_000 }, "1.44"),
    ).toBeUndefined();
  });
  it("execs nothing where Docker probes at its start interval, and execs elsewhere", () => {
    const config = { Test: ["CMD", "true"], StartPeriod: 10_000 * NS, StartInterval: 250 * NS };
    expect(readinessExecPlan({ config }, "1.44")).toBeUndefined();
    expect(readinessExecPlan({ config }, "1.41")?.command).toEqual(["true"]);
    expect(readinessExecPlan({ config: { Test: ["CMD", "true"] } }, "1.44")?.command).toEqual(["true"]);
  });
});

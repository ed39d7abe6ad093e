import { describe, expect, it } from "vitest";
import type { EnvironmentEvent } from "../../src/lifecycle/watch.js";
import { formatEnvironmentEvent, formatEventSummary } from "../../src/lifecycle/watch-report.js";

const event = (overrides: Partial<EnvironmentEvent>): EnvironmentEvent => ({
  kind: "oom-killed",
  severity: "error",
  service: "api",
  container: "shop-api-1",
  project: "shop",
  time: new Date("2030-01-02T12:03:04.567Z"),
  exitCode: 137,
  limitBytes: 64 * 1024 ** 2,
  probeOutput: undefined,
  message: "service `api` was killed by the kernel OOM killer at its 64 MiB limit",
  logsTail: Array.from({ length: 12 }, (_, i) => `line ${i + 1}`),
  ...overrides,
});

describe("watcher formatting", () => {
  it("names the time, the service and the cause, with the last log lines of failures", () => {
    const text = formatEnvironmentEvent(event({}));
    const lines = text.split("\n");
    expect(lines[0]).toBe(
      "berth: 12:03:04Z service `api` was killed by the kernel OOM killer at its 64 MiB limit",
    );
    expect(lines[1]).toBe("  last 10 log lines of shop-api-1:");
    expect(lines.slice(2)).toEqual(Array.from({ length: 10 }, (_, i) => `    line ${i + 3}`));
  });

  it("prints informational events as one line", () => {
    const text = formatEnvironmentEvent(
      event({
        kind: "stopped",
        severity: "info",
        message: "service `db` was stopped through the API (exit code 0)",
      }),
    );
    expect(text).toBe("berth: 12:03:04Z service `db` was stopped through the API (exit code 0)");
  });

  it("summarises what was not a deliberate stop", () => {
    expect(formatEventSummary([])).toBe(
      "berth: no service died, was OOM-killed or turned unhealthy during the run",
    );
    const summary = formatEventSummary([
      event({}),
      event({ kind: "stopped", severity: "info", message: "service `db` was stopped" }),
      event({
        kind: "exited",
        severity: "warning",
        service: "worker",
        message: "service `worker` exited with code 0",
      }),
    ]);
    expect(summary).toBe(
      [
        "berth: 2 service events during the run:",
        "  12:03:04Z  error    service `api` was killed by the kernel OOM killer at its 64 MiB limit",
        "  12:03:04Z  warning  service `worker` exited with code 0",
        "  per service: api 1, worker 1",
      ].join("\n"),
    );
  });
});

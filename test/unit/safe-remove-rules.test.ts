import { describe, expect, it } from "vitest";
import { classifyStop } from "../../src/lifecycle/safe-remove.js";
import { formatOwner, parseOwner } from "../../src/model/labels.js";

describe("classifyStop", () => {
  it("calls a 137 after the whole grace period a kill after grace", () => {
    expect(
      classifyStop({ exitCode: 137, stopSignal: "SIGTERM", graceSeconds: 2, stopDurationMs: 2_050 }),
    ).toBe("killed-after-grace");
  });
  it("calls a clean exit inside the grace period an exit", () => {
    expect(classifyStop({ exitCode: 0, stopSignal: "SIGTERM", graceSeconds: 10, stopDurationMs: 150 })).toBe(
      "exited",
    );
    expect(
      classifyStop({ exitCode: 143, stopSignal: "SIGTERM", graceSeconds: 10, stopDurationMs: 150 }),
    ).toBe("exited");
  });
  it("does not call a container whose stop signal is SIGKILL killed after grace", () => {
    expect(classifyStop({ exitCode: 137, stopSignal: "SIGKILL", graceSeconds: 0, stopDurationMs: 30 })).toBe(
      "exited",
    );
  });
});

describe("owner labels", () => {
  it("round-trips host, pid and start time", () => {
    const owner = { host: "ci-runner-1", pid: 4242, startTime: "987654" };
    expect(parseOwner(formatOwner(owner))).toEqual(owner);
    expect(parseOwner("garbage")).toBeUndefined();
  });
});

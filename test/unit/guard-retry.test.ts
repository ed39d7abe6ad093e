// The guard's retries, driven through a real Engine whose calls perform scripted failures (the
// raw errors the Docker client throws); no daemon is involved.
import { describe, expect, it } from "vitest";
import type { EngineCall } from "../../src/engine/engine.js";
import {
  AbortedError,
  ConflictError,
  DaemonUnavailableError,
  NotFoundError,
  TransientError,
} from "../../src/engine/errors.js";
import type { OperationName } from "../../src/engine/operations.js";
import { OPERATIONS } from "../../src/engine/operations.js";
import { DEFAULT_RETRY } from "../../src/guard/config.js";
import { createEngine, type GuardOptions, guardOf } from "../../src/guard/guard.js";
import {
  backoffDelay,
  retryDecision,
  sampleOutcomeForStatus,
  sampleOutcomeOf,
} from "../../src/guard/retry.js";

const reset = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
const answer = (statusCode: number, message: string) =>
  Object.assign(new Error(message), { statusCode, json: { message } });

function guardedEngine(options: GuardOptions = {}) {
  const lines: string[] = [];
  const engine = createEngine({
    dockerHost: "unix:///tmp/berth-guard-test-no-daemon.sock",
    env: {},
    limiter: "off",
    retry: { baseDelayMs: 2, maxDelayMs: 20 },
    log: { level: "debug", format: "json" },
    logSink: (line) => lines.push(line),
    ...options,
  });
  return { engine, guard: guardOf(engine)!, lines };
}

/** Performs `operation` through the engine; the first failures come from `script`, then "done". */
async function callWith(
  engine: ReturnType<typeof guardedEngine>["engine"],
  operation: OperationName,
  script: (() => unknown)[],
  context: { resource?: string; signal?: AbortSignal } = {},
) {
  let attempts = 0;
  const result = await engine
    .call(
      operation,
      async () => {
        const failure = script[attempts++];
        if (failure) throw failure();
        return "done";
      },
      context,
    )
    .catch((error: unknown) => error);
  return { result, attempts };
}

describe("which failures are retried", () => {
  const call = (
    operation: OperationName,
    resource?: string,
  ): Pick<EngineCall, "operation" | "idempotent" | "resource"> => ({
    operation,
    idempotent: OPERATIONS[operation].idempotent,
    resource,
  });
  const transient = (status?: number) =>
    new TransientError("busy", status === undefined ? {} : { status, apiMessage: "busy" });

  it("retries broken connections only on idempotent calls", () => {
    expect(retryDecision(transient(), call("container.start"))).toBe("retry");
    expect(retryDecision(transient(), call("container.remove"))).toBe("retry");
    expect(retryDecision(transient(), call("container.kill"))).toBe("fail");
    expect(retryDecision(transient(), call("network.create", "net"))).toBe("fail");
  });

  it("looks a create up by name instead of repeating it, and never repeats a nameless one", () => {
    expect(retryDecision(transient(), call("container.create", "berth-web-1"))).toBe("lookup");
    expect(retryDecision(transient(), call("container.create", "berth-fixture/busybox:1.35.0"))).toBe("fail");
  });

  it("retries any call the daemon answered as busy, since it did nothing", () => {
    expect(retryDecision(transient(503), call("container.kill"))).toBe("retry");
    expect(retryDecision(transient(409), call("container.create", "berth-fixture/busybox:1.35.0"))).toBe(
      "retry",
    );
    // Even then a named create is looked up first: "never blindly".
    expect(retryDecision(transient(503), call("container.create", "web"))).toBe("lookup");
  });

  it("retries a refused connection on any call: the request never left", () => {
    const error = new DaemonUnavailableError("refused", "unix:///x", { cause: refused() });
    expect(retryDecision(error, call("container.create", "web"))).toBe("retry");
    const missing = new DaemonUnavailableError("no socket", "unix:///x", { cause: { code: "ENOENT" } });
    expect(retryDecision(missing, call("container.start"))).toBe("fail");
  });

  it("never retries answers about the request itself", () => {
    expect(retryDecision(new NotFoundError("gone"), call("container.start"))).toBe("fail");
    expect(retryDecision(new ConflictError("in use", "name-in-use"), call("container.create", "x"))).toBe(
      "fail",
    );
    expect(retryDecision(new AbortedError("stop"), call("container.start"))).toBe("fail");
  });

  it("tells the limiter which failures are signs of load", () => {
    expect(sampleOutcomeOf(new TransientError("reset"))).toBe("error");
    expect(sampleOutcomeOf(new NotFoundError("gone"))).toBe("dropped");
    expect(sampleOutcomeOf(new AbortedError("stop"))).toBe("dropped");
    expect(sampleOutcomeForStatus(503)).toBe("error");
    expect(sampleOutcomeForStatus(409)).toBe("dropped");
    expect(sampleOutcomeForStatus(204)).toBe("ok");
  });
});

describe("backoff", () => {
  it("doubles its ceiling per attempt up to the cap, with full jitter below it", () => {
    const settings = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((a) => Math.round(backoffDelay(a, settings, top)))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(3, settings, () => 0)).toBe(0);
    expect(backoffDelay(3, settings, () => 0.5)).toBe(200);
  });
});

describe("the guard's retry loop", () => {
  it("retries a reset idempotent call until it passes, and counts the retries", async () => {
    const { engine, guard, lines } = guardedEngine();
    const { result, attempts } = await callWith(engine, "container.start", [reset, reset]);
    expect(result).toBe("done");
    expect(attempts).toBe(3);
    expect(guard.metrics.snapshot()).toMatchObject({ retries: 2, failures: 0 });
    const call = lines.map((l) => JSON.parse(l)).find((l) => l.event === "call");
    expect(call).toMatchObject({
      operation: "container.start",
      class: "lifecycle",
      outcome: "ok",
      retries: 2,
    });
    expect(lines.filter((l) => JSON.parse(l).event === "retry")).toHaveLength(2);
  });

  it("does not send a reset non-idempotent call again", async () => {
    const { engine, guard } = guardedEngine();
    const { result, attempts } = await callWith(engine, "container.kill", [reset]);
    expect(result).toBeInstanceOf(TransientError);
    expect(attempts).toBe(1);
    expect(guard.metrics.snapshot()).toMatchObject({
      retries: 0,
      failures: 1,
      errorsByCode: { BERTH_TRANSIENT: 1 },
    });
  });

  it("retries a daemon that answered busy (503, 500 device busy, 409 prune running)", async () => {
    const { engine } = guardedEngine();
    const { result, attempts } = await callWith(engine, "container.remove", [
      () => answer(503, "service unavailable"),
      () => answer(500, "unlinkat /var/lib/docker/overlay2/x: device or resource busy"),
      () => answer(409, "a prune operation is already running"),
    ]);
    expect(result).toBe("done");
    expect(attempts).toBe(4);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const { engine, guard } = guardedEngine({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const { result, attempts } = await callWith(engine, "container.inspect", Array(10).fill(reset));
    expect(result).toBeInstanceOf(TransientError);
    expect(attempts).toBe(3);
    expect(guard.metrics.snapshot().retries).toBe(2);
  });

  it("gives up when the next backoff would pass the overall deadline", async () => {
    const { engine } = guardedEngine({
      retry: { maxAttempts: 100, baseDelayMs: 40, maxDelayMs: 40, deadlineMs: 100 },
      random: () => 0.999,
    });
    const started = performance.now();
    const { result, attempts } = await callWith(engine, "container.inspect", Array(100).fill(reset));
    expect(result).toBeInstanceOf(TransientError);
    expect(attempts).toBeLessThanOrEqual(3);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("stops waiting to retry as soon as the call's signal aborts", async () => {
    const { engine } = guardedEngine({
      retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 },
      random: () => 0.999,
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    const { result, attempts } = await callWith(engine, "container.start", [reset], {
      signal: controller.signal,
    });
    expect(result).toBeInstanceOf(AbortedError);
    expect(attempts).toBe(1);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("retries a refused connection even for a create", async () => {
    const { engine } = guardedEngine();
    const { result, attempts } = await callWith(engine, "container.create", [refused], { resource: "web" });
    expect(result).toBe("done");
    expect(attempts).toBe(2);
  });

  it("does not create again when a broken create's name cannot be looked up", async () => {
    // The lookup goes to a socket that does not exist, so berth cannot know whether the first
    // create went through: it must fail rather than risk a second container.
    const { engine } = guardedEngine();
    const { result, attempts } = await callWith(engine, "container.create", [reset], {
      resource: "berth-web-1",
    });
    expect(result).toBeInstanceOf(TransientError);
    expect(attempts).toBe(1);
  });

  it("never retries a 404", async () => {
    const { engine, guard } = guardedEngine();
    const { result, attempts } = await callWith(engine, "container.inspect", [
      () => answer(404, "No such container: x"),
    ]);
    expect(result).toBeInstanceOf(NotFoundError);
    expect(attempts).toBe(1);
    expect(guard.metrics.snapshot()).toMatchObject({ failures: 0, errorsByCode: { BERTH_NOT_FOUND: 1 } });
  });
});

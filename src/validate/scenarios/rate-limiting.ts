// Rate limiting: the guard keeps bursts within its limit, paces the fixed mode as configured,
// retries transient faults (real connection resets from a relay in front of the socket) and
// never duplicates a create whose answer was lost.

import { Engine } from "../../engine/engine.js";
import { NotFoundError } from "../../engine/errors.js";
import type { ContainerCreateSpec } from "../../engine/types.js";
import type { LimiterOptions } from "../../guard/config.js";
import { createEngine, guardOf } from "../../guard/guard.js";
import { percentile } from "../../model/stats.js";
import { startFaultProxy } from "../fault-proxy.js";
import {
  type Category,
  check,
  checkEqual,
  checkRejects,
  type Scenario,
  type ScenarioContext,
} from "../scenario.js";
import { maxOverlap, round } from "../stats.js";

const C = "rate-limiting";

/** The limiter configuration the run's engine uses, for a fresh engine whose state starts clean. */
export function runLimiterOptions(engine: Engine): LimiterOptions {
  const guard = guardOf(engine);
  if (!guard) return { mode: "off" };
  const snap = guard.limiter.snapshot();
  if (snap.mode === "fixed")
    return { mode: "fixed", maxConcurrent: snap.limit, minIntervalMs: snap.minIntervalMs ?? 0 };
  return { mode: snap.mode };
}

interface Dispatch {
  operation: string;
  start: number;
  end: number;
}

/** Records every lifecycle dispatch of `engine` while `work` runs. */
async function recordDispatches<T>(
  engine: Engine,
  work: () => Promise<T>,
): Promise<{ value: T; dispatches: Dispatch[] }> {
  const dispatches: Dispatch[] = [];
  // Observers run as a dispatch ends, so "now" is its end on the precise clock (startedAt has
  // only millisecond resolution and would make back-to-back calls look overlapping).
  const stop = engine.observe((r) => {
    if (r.class !== "lifecycle") return;
    const end = performance.now();
    dispatches.push({ operation: r.operation, start: end - r.durationMs, end });
  });
  try {
    return { value: await work(), dispatches };
  } finally {
    stop();
  }
}

/** Creates `n` containers at once (not started), then removes them all at once. */
async function createRemoveBurst(ctx: ScenarioContext, engine: Engine, n: number): Promise<void> {
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const { id } = await engine.createContainer({
        name: ctx.name("burst"),
        Image: ctx.image,
        Cmd: ["true"],
        Labels: ctx.labels("burst"),
      } as ContainerCreateSpec);
      ctx.defer(() =>
        engine
          .removeContainer(id, { volumes: true })
          .catch((e) => (e instanceof NotFoundError ? undefined : Promise.reject(e))),
      );
      return id;
    }),
  );
  await Promise.all(ids.map((id) => engine.removeContainer(id, { volumes: true })));
}

const burstWithinLimit: Scenario = {
  id: `${C}.burst-within-limit`,
  category: C,
  title: "A burst of lifecycle calls through the guard stays within its limit",
  quick: true,
  exclusive: true,
  fault: {
    kind: "setup",
    describe: "berth configured with the limiter off",
    expect: /the limiter is `off`: nothing bounds a burst/,
  },
  async run(ctx) {
    const burst = 16;
    const options: LimiterOptions = ctx.faulted ? { mode: "off" } : runLimiterOptions(ctx.engine);
    const engine = createEngine({ dockerHost: ctx.engine.endpoint.url, limiter: options });
    const limiter = guardOf(engine)!.limiter;
    let highestInFlight = 0;
    const sampler = setInterval(() => {
      highestInFlight = Math.max(highestInFlight, limiter.snapshot().inFlight);
    }, 2);
    let dispatches: Dispatch[];
    try {
      ({ dispatches } = await recordDispatches(engine, () => createRemoveBurst(ctx, engine, burst)));
    } finally {
      clearInterval(sampler);
    }
    const snap = limiter.snapshot();
    const atDaemon = maxOverlap(dispatches);
    ctx.observe("mode", snap.mode);
    ctx.observe("burst", `${burst} creates, then ${burst} removals, all at once`);
    ctx.observe("maxAtDaemonAtOnce", atDaemon);
    ctx.observe(
      "limit",
      Number.isFinite(snap.highestLimit) ? `${snap.lowestLimit}..${snap.highestLimit}` : "none",
    );
    ctx.observe("limitChanges", snap.limitChanges);
    check(
      snap.mode !== "off" && Number.isFinite(snap.highestLimit),
      `the limiter is \`${snap.mode}\`: nothing bounds a burst (${atDaemon} of ${burst} calls were at the daemon at once)`,
      {
        expected: "a finite limit",
        actual: `mode ${snap.mode}, ${atDaemon} calls at once`,
        hint: "Unset BERTH_LIMITER=off (or choose adaptive/fixed) so the guard protects the daemon.",
      },
    );
    check(
      atDaemon <= snap.highestLimit,
      `${atDaemon} calls were at the daemon at once, above the highest limit ${snap.highestLimit}`,
      {
        expected: `<= ${snap.highestLimit}`,
        actual: atDaemon,
      },
    );
    check(atDaemon < burst, `all ${burst} calls of the burst reached the daemon at once`, {
      expected: `< ${burst}`,
      actual: atDaemon,
    });
    return { highestInFlightSeen: highestInFlight };
  },
};

const fixedMaxConcurrent: Scenario = {
  id: `${C}.fixed-max-concurrent`,
  category: C,
  title: "Fixed mode never has more than maxConcurrent lifecycle calls in flight",
  exclusive: true,
  fault: {
    kind: "setup",
    describe: "berth configured with the limiter off while fixed mode with 3 is expected",
    expect: /lifecycle calls were in flight at once with maxConcurrent 3/,
  },
  async run(ctx) {
    const engine = createEngine({
      dockerHost: ctx.engine.endpoint.url,
      limiter: ctx.faulted ? { mode: "off" } : { mode: "fixed", maxConcurrent: 3, minIntervalMs: 0 },
    });
    const { dispatches } = await recordDispatches(engine, () => createRemoveBurst(ctx, engine, 12));
    const atOnce = maxOverlap(dispatches);
    ctx.observe("maxConcurrent", 3);
    ctx.observe("calls", dispatches.length);
    ctx.observe("maxAtOnce", atOnce);
    check(atOnce <= 3, `${atOnce} lifecycle calls were in flight at once with maxConcurrent 3`, {
      expected: "<= 3",
      actual: atOnce,
    });
    check(atOnce >= 2, "the calls ran one at a time: the limiter allowed no parallelism at all", {
      expected: ">= 2",
      actual: atOnce,
    });
    return undefined;
  },
};

const fixedInterval: Scenario = {
  id: `${C}.fixed-interval`,
  category: C,
  title: "Fixed mode's minimum interval between lifecycle starts is honoured",
  quick: true,
  exclusive: true,
  fault: {
    kind: "setup",
    describe: "berth configured without the minimum interval",
    expect: /faster than one per 250 ms|started only [\d.]+ ms apart/,
  },
  async run(ctx) {
    const intervalMs = 250;
    const engine = createEngine({
      dockerHost: ctx.engine.endpoint.url,
      limiter: { mode: "fixed", maxConcurrent: 3, minIntervalMs: ctx.faulted ? 0 : intervalMs },
    });
    const names = Array.from({ length: 6 }, () => ctx.name("paced"));
    for (const name of names) ctx.defer(() => engine.removeVolume(name).catch(() => {}));
    const { dispatches } = await recordDispatches(engine, () =>
      Promise.all(names.map((name) => engine.createVolume({ Name: name, Labels: ctx.labels() }))),
    );
    const starts = dispatches.map((d) => d.start).sort((a, b) => a - b);
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    const span = starts.at(-1)! - starts[0]!;
    const smallest = Math.min(...gaps);
    ctx.observe("intervalMs", intervalMs);
    ctx.observe("spanMs", round(span));
    ctx.observe("smallestGapMs", round(smallest));
    // The limiter paces its grants; a busy event loop may delay one dispatch a little and make the
    // next gap look short, but it cannot shorten the whole span.
    check(
      span >= (starts.length - 1) * intervalMs - 20,
      `${starts.length} lifecycle calls started within ${round(span)} ms, faster than one per ${intervalMs} ms`,
      { expected: `>= ${(starts.length - 1) * intervalMs} ms`, actual: round(span) },
    );
    check(smallest >= intervalMs * 0.6, `two lifecycle calls started only ${round(smallest)} ms apart`, {
      expected: `about ${intervalMs} ms`,
      actual: round(smallest),
    });
    return { calls: starts.length, medianGapMs: round(percentile(gaps, 50)) };
  },
};

const transientRetry: Scenario = {
  id: `${C}.transient-retry`,
  category: C,
  title: "Connection resets are retried until the call succeeds",
  quick: true,
  fault: {
    kind: "setup",
    describe: "berth configured with retries off (`retry: false`)",
    expect: /socket hang up|ECONNRESET|reset/i,
  },
  async run(ctx) {
    // Every third connection is reset before the daemon sees it.
    const proxy = await startFaultProxy(ctx.engine.endpoint, ({ connection }) =>
      connection % 3 === 1 ? "reset" : "pass",
    );
    ctx.defer(() => proxy.close());
    const engine = createEngine({
      dockerHost: proxy.dockerHost,
      limiter: runLimiterOptions(ctx.engine),
      ...(ctx.faulted ? { retry: false as const } : {}),
    });
    const { id } = await ctx.container();
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push((await engine.inspectContainer(id)).Id === id);
      results.push((await engine.listContainers({ filters: { id: [id] } })).length === 1);
    }
    await engine.ping();
    const metrics = guardOf(engine)!.metrics.snapshot();
    ctx.observe("connections", proxy.stats.connections);
    ctx.observe("resets", proxy.stats.resets);
    ctx.observe("retries", metrics.retries);
    ctx.observe("calls", results.length + 1);
    check(proxy.stats.resets >= 3, "the relay reset too few connections for the check to mean anything", {
      actual: proxy.stats.resets,
    });
    check(results.every(Boolean), "a call through the faulty socket returned a wrong answer", {
      actual: results.map(String),
    });
    check(
      metrics.retries >= proxy.stats.resets,
      `the guard retried ${metrics.retries} times for ${proxy.stats.resets} resets`,
      {
        expected: `>= ${proxy.stats.resets}`,
        actual: metrics.retries,
      },
    );
    checkEqual(metrics.failures, 0, "calls that failed despite retries");
    return undefined;
  },
};

const createNotDuplicated: Scenario = {
  id: `${C}.create-not-duplicated`,
  category: C,
  title: "A create whose answer was lost is found by name, not created twice",
  quick: true,
  fault: {
    kind: "setup",
    describe: "berth without its guard: the lost create is not looked up",
    expect: /socket hang up|ECONNRESET|reset/i,
  },
  async run(ctx) {
    let lost = 0;
    const proxy = await startFaultProxy(ctx.engine.endpoint, ({ requestLine }) => {
      if (lost === 0 && /^POST \S*\/containers\/create/.test(requestLine)) {
        lost += 1;
        return "reset-after-response";
      }
      return "pass";
    });
    ctx.defer(() => proxy.close());
    const engine = ctx.faulted
      ? new Engine({ dockerHost: proxy.dockerHost })
      : createEngine({ dockerHost: proxy.dockerHost, limiter: runLimiterOptions(ctx.engine) });
    const name = ctx.name("lost-answer");
    // Without the guard the create's answer is lost; the container it made must not outlive the scenario.
    if (ctx.faulted) ctx.defer(() => ctx.engine.removeContainer(name, { volumes: true }).catch(() => {}));
    const { id } = await engine.createContainer({
      name,
      Image: ctx.image,
      Cmd: ["true"],
      Labels: ctx.labels("lost-answer"),
    } as ContainerCreateSpec);
    ctx.defer(() => ctx.engine.removeContainer(id, { volumes: true }).catch(() => {}));
    const same = await ctx.engine.listContainers({ all: true, filters: { name: [`^/?${name}$`] } });
    const metrics = guardOf(engine)!.metrics.snapshot();
    checkEqual(proxy.stats.resetsAfterResponse, 1, "answers lost by the relay");
    checkEqual(same.length, 1, `containers named ${name}`);
    checkEqual(same[0]?.Id, id, "id answered for the lost create");
    checkEqual(metrics.recoveredCreates, 1, "creates recovered by lookup");
    return { name, containersWithName: same.length, recoveredCreates: metrics.recoveredCreates };
  },
};

const noRetryOnAnswers: Scenario = {
  id: `${C}.answers-not-retried`,
  category: C,
  title: "Definite answers (404 not found, 409 name in use) are not retried",
  fault: {
    kind: "relay",
    describe: "the daemon answers the first lookup of the missing container with a transient 503",
    expect: /^retries: expected 0, got 1/,
    rules: [
      {
        method: "GET",
        path: /^\/containers\/[^/]*missing[^/]*\/json/,
        times: 1,
        answer: { status: 503, body: { message: "berth fault relay: service unavailable" } },
      },
    ],
  },
  async run(ctx) {
    const engine = createEngine({
      dockerHost: ctx.engine.endpoint.url,
      limiter: runLimiterOptions(ctx.engine),
    });
    const dispatched: string[] = [];
    const stop = engine.observe((r) => dispatched.push(r.operation));
    try {
      const missing = await checkRejects(
        () => engine.inspectContainer(ctx.name("missing")),
        "inspect of a missing container",
      );
      check(missing instanceof NotFoundError, "a missing container did not give NotFoundError", {
        actual: (missing as Error).name,
      });
      const { name } = await ctx.container({ start: false });
      const conflict = await checkRejects(
        () =>
          engine.createContainer({
            name,
            Image: ctx.image,
            Labels: ctx.labels(),
          } as ContainerCreateSpec),
        "create with a name in use",
      );
      checkEqual((conflict as { reason?: string }).reason ?? null, "name-in-use", "conflict reason");
    } finally {
      stop();
    }
    const metrics = guardOf(engine)!.metrics.snapshot();
    checkEqual(metrics.retries, 0, "retries");
    return { dispatches: dispatched, retries: metrics.retries };
  },
};

export const rateLimiting: Category = {
  id: C,
  title: "Rate limiting",
  scenarios: [
    transientRetry,
    createNotDuplicated,
    noRetryOnAnswers,
    burstWithinLimit,
    fixedMaxConcurrent,
    fixedInterval,
  ],
};

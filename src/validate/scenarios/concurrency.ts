// Concurrency: many callers at once, as test workers are. Every lifecycle (create, start, safe
// removal) must succeed through the guard; the success rate and throughput go into the figures.
import type { ContainerCreateSpec } from "../../engine/types.js";
import { guardOf } from "../../guard/guard.js";
import { safeRemove } from "../../lifecycle/safe-remove.js";
import { GRACE_SECONDS, TRAPPING_LOOP, waitForOutput } from "../run-scope.js";
import type { Category, Scenario, ScenarioContext } from "../scenario.js";
import { check, checkEqual, relayFault, scenarioIn } from "../scenario.js";

const C = "concurrency";
const scenario = scenarioIn(C);

async function storm(ctx: ScenarioContext, callers: number, perCaller: number) {
  const failures: string[] = [];
  let succeeded = 0;
  const before = guardOf(ctx.engine)?.metrics.snapshot();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < perCaller; i++) {
        const name = ctx.name(`storm${callers}`);
        try {
          const { id } = await ctx.engine.createContainer({
            name,
            Image: ctx.image,
            Cmd: TRAPPING_LOOP,
            Labels: ctx.labels("storm"),
          } as ContainerCreateSpec);
          ctx.defer(() => safeRemove(ctx.engine, id, { maxGraceSeconds: 2 }));
          await ctx.engine.startContainer(id);
          await waitForOutput(ctx.engine, id, "ready", 30_000, ctx.signal);
          const record = await safeRemove(ctx.engine, id, { graceSeconds: GRACE_SECONDS });
          if (record.outcome !== "exited") throw new Error(`${name}: ${record.outcome}`);
          succeeded += 1;
        } catch (error) {
          failures.push(`${name}: ${(error as Error).message}`);
        }
      }
    }),
  );
  const wallMs = performance.now() - began;
  const figure = ctx.concurrency({ callers, lifecycles: callers * perCaller, succeeded, wallMs });
  const after = guardOf(ctx.engine)?.metrics.snapshot();
  return { figure, failures, before, after };
}

function callersScenario(
  callers: number,
  perCaller: { quick: number; full: number },
  quick: boolean,
): Scenario {
  return scenario(`callers-${callers}`, {
    title: `${callers} callers run lifecycles at once; every one succeeds`,
    quick,
    exclusive: true,
    timeoutMs: 180_000,
    fault: relayFault("the daemon refuses one create with a definite 409", /1 of \d+ lifecycles failed/, [
      {
        method: "POST",
        path: /^\/containers\/create/,
        after: 1,
        times: 1,
        answer: { status: 409, body: { message: "berth fault relay: conflict injected for one create" } },
      },
    ]),
    async run(ctx) {
      // Under its fault one refused create is enough to show the check fails: the short run.
      const n = ctx.quick || ctx.faulted ? perCaller.quick : perCaller.full;
      const { figure, failures, before, after } = await storm(ctx, callers, n);
      ctx.observe("lifecycles", figure.lifecycles);
      ctx.observe("succeeded", figure.succeeded);
      ctx.observe("successRate", figure.successRate);
      ctx.observe("throughputPerSecond", figure.throughput);
      ctx.observe("wallMs", figure.wallMs);
      if (before && after) {
        ctx.observe("guardRetries", after.retries - before.retries);
        ctx.observe(
          "limit",
          `${after.limiter.mode} ${after.limiter.limit} (range ${after.limiter.lowestLimit}..${after.limiter.highestLimit})`,
        );
        ctx.observe("daemonP95Ms", Math.round(after.latency.lifecycle.p95));
      }
      if (failures.length) ctx.observe("failures", failures.slice(0, 5));
      check(
        figure.successRate === 1,
        `${failures.length} of ${figure.lifecycles} lifecycles failed: ${failures[0] ?? ""}`,
        {
          expected: "100%",
          actual: `${(figure.successRate * 100).toFixed(1)}%`,
        },
      );
      return undefined;
    },
  });
}

const parallelReads = scenario("parallel-reads", {
  title: "64 concurrent reads (inspect, list, ping) all answer correctly",
  quick: true,
  fault: relayFault("the daemon's container list answers empty", /correct answers: expected 64, got \d+/, [
    { method: "GET", path: /^\/containers\/json/, json: () => [] },
  ]),
  async run(ctx) {
    const { id } = await ctx.container();
    const guard = guardOf(ctx.engine);
    let peakReads = 0;
    const sampler = setInterval(() => {
      peakReads = Math.max(peakReads, guard?.limiter.snapshot().reads.inFlight ?? 0);
    }, 2);
    let answers: boolean[];
    try {
      answers = await Promise.all(
        Array.from({ length: 64 }, async (_, i) => {
          if (i % 3 === 0) return (await ctx.engine.inspectContainer(id)).Id === id;
          if (i % 3 === 1) return (await ctx.engine.listContainers({ filters: { id: [id] } })).length === 1;
          // A ping, not /version: Podman's /version asks its runtimes for theirs and takes seconds.
          return (await ctx.engine.ping()) === "OK";
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    checkEqual(answers.filter(Boolean).length, 64, "correct answers");
    const budget = guard?.limiter.snapshot().reads.limit;
    if (budget !== undefined && Number.isFinite(budget)) {
      check(peakReads <= budget, `${peakReads} reads were in flight, above the read budget ${budget}`, {
        expected: `<= ${budget}`,
        actual: peakReads,
      });
    }
    return {
      reads: 64,
      correct: answers.filter(Boolean).length,
      peakReadsInFlight: peakReads,
      readBudget: budget ?? "none",
    };
  },
});

export const concurrency: Category = {
  id: C,
  title: "Concurrency",
  scenarios: [
    parallelReads,
    callersScenario(8, { quick: 1, full: 3 }, true),
    callersScenario(32, { quick: 1, full: 2 }, false),
  ],
};

// `npm run bench -- storm [--callers 1,8,32] [--modes off,fixed,adaptive] [--lifecycles 48]`:
// create-start-stop-remove lifecycles of a SIGTERM-handling fixture container from 1, 8 and 32
// concurrent callers, under each limiter mode, all in one run. For each: wall time, throughput,
// p50/p95 of the daemon-side API call latency (dispatch to response, never time queued) and
// failures. Targets at 32 callers: adaptive throughput >= 0.9x off, adaptive p95 <= 0.5x off,
// adaptive throughput >= 8x fixed, zero failures everywhere.
import { randomUUID } from "node:crypto";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import type { LimiterMode, LimiterOptions } from "../src/guard/config.js";
import { createEngine, guardOf } from "../src/guard/guard.js";
import { safeRemove } from "../src/lifecycle/safe-remove.js";
import { benchEnv, benchLabels, option, percentile, printJson, printTable, round } from "./support.js";

interface RunResult {
  mode: LimiterMode;
  callers: number;
  lifecycles: number;
  wallS: number;
  perSec: number;
  /** Daemon-side latency of every non-stream call, ms. */
  p50Ms: number;
  p95Ms: number;
  /** The same for lifecycle calls only. */
  lifecycleP50Ms: number;
  lifecycleP95Ms: number;
  failures: number;
  retries: number;
  /** p95 of the time lifecycle calls waited for a limiter slot, ms. */
  queuedP95Ms: number;
  /** adaptive: the limit's range during the run. */
  limit?: { lowest: number; highest: number; final: number };
}

const LIMITERS: Record<LimiterMode, LimiterOptions> = {
  off: { mode: "off" },
  fixed: { mode: "fixed", maxConcurrent: 3, minIntervalMs: 500 },
  adaptive: { mode: "adaptive" },
};

async function runStorm(
  image: string,
  labels: Record<string, string>,
  mode: LimiterMode,
  callers: number,
  lifecycles: number,
  prefix: string,
): Promise<RunResult> {
  const engine = createEngine({ limiter: LIMITERS[mode], log: false });
  const guard = guardOf(engine)!;
  const all: number[] = [];
  const lifecycle: number[] = [];
  engine.observe((r) => {
    if (r.class === "stream") return;
    all.push(r.durationMs);
    if (r.class === "lifecycle") lifecycle.push(r.durationMs);
  });
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < lifecycles) {
        const name = `${prefix}-${mode}-${callers}-${next++}`;
        try {
          const { id } = await engine.createContainer({
            name,
            Image: image,
            Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            Labels: labels,
            StopTimeout: 10,
            // tini as PID 1 passes SIGTERM on even before the shell has set its trap (a bare
            // shell as PID 1 ignores it until then, and the stop would wait out the grace).
            HostConfig: { Init: true },
          });
          await engine.startContainer(id);
          await safeRemove(engine, id, { graceSeconds: 10 });
        } catch (error) {
          failures += 1;
          process.stderr.write(`storm: ${name} failed: ${(error as Error).message}\n`);
        }
      }
    }),
  );
  const wallS = (performance.now() - started) / 1000;
  const snap = guard.metrics.snapshot();
  const result: RunResult = {
    mode,
    callers,
    lifecycles,
    wallS: round(wallS, 2),
    perSec: round(lifecycles / wallS, 2),
    p50Ms: round(percentile(all, 50), 1),
    p95Ms: round(percentile(all, 95), 1),
    lifecycleP50Ms: round(percentile(lifecycle, 50), 1),
    lifecycleP95Ms: round(percentile(lifecycle, 95), 1),
    failures,
    retries: snap.retries,
    queuedP95Ms: round(snap.queued.lifecycle.p95, 1),
  };
  if (mode === "adaptive") {
    result.limit = {
      lowest: snap.limiter.lowestLimit,
      highest: snap.limiter.highestLimit,
      final: snap.limiter.limit,
    };
  }
  return result;
}

/** Removes whatever a failed lifecycle left behind, by this run's label. */
async function sweep(engine: Engine, runLabel: string): Promise<number> {
  const left = await engine.listContainers({ all: true, filters: { label: [runLabel] } });
  await Promise.all(left.map((c) => safeRemove(engine, c.Id, { graceSeconds: 10 })));
  return left.length;
}

export default async function storm(args: string[] = []): Promise<void> {
  const callerCounts = option(args, "callers", "1,8,32").split(",").map(Number);
  const modes = option(args, "modes", "off,fixed,adaptive").split(",") as LimiterMode[];
  const lifecycles = Number(option(args, "lifecycles", "48"));
  const direct = new Engine();
  const env = await benchEnv(direct);
  const image = (await ensureBusyboxFixture(direct)).ref;
  const run = randomUUID().slice(0, 8);
  const labels = benchLabels("storm", run);
  const prefix = `berth-bench-storm-${run}`;

  const results: RunResult[] = [];
  // Interrupted (Ctrl-C, a timeout), the benchmark still removes what it created.
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`storm: ${signal}, removing this run's containers...\n`);
    void sweep(direct, `berth.bench.run=${run}`).finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    for (const callers of callerCounts) {
      for (const mode of modes) {
        process.stderr.write(`storm: ${lifecycles} lifecycles, ${callers} callers, limiter ${mode}...\n`);
        results.push(await runStorm(image, labels, mode, callers, lifecycles, prefix));
        // Let the daemon finish its own cleanup before the next run is measured.
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    const left = await sweep(direct, `berth.bench.run=${run}`);
    if (left > 0) process.stderr.write(`storm: removed ${left} container(s) left by failed lifecycles\n`);
  }

  printTable(
    `storm: ${lifecycles} create-start-stop-remove lifecycles (daemon-side latency of every API call, ms)`,
    [
      "callers",
      "limiter",
      "wall s",
      "per s",
      "p50",
      "p95",
      "life p50",
      "life p95",
      "queued p95",
      "failures",
      "retries",
      "limit",
    ],
    results.map((r) => [
      r.callers,
      r.mode,
      r.wallS,
      r.perSec,
      r.p50Ms,
      r.p95Ms,
      r.lifecycleP50Ms,
      r.lifecycleP95Ms,
      r.queuedP95Ms,
      r.failures,
      r.retries,
      r.limit ? `${r.limit.lowest}-${r.limit.highest} (end ${r.limit.final})` : "",
    ]),
  );

  const at = (mode: LimiterMode, callers = 32) =>
    results.find((r) => r.mode === mode && r.callers === callers);
  const off = at("off");
  const fixed = at("fixed");
  const adaptive = at("adaptive");
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? Number.NaN : round(a / b, 3);
  const targets = {
    adaptiveThroughputVsOff: { value: ratio(adaptive?.perSec, off?.perSec), goal: ">= 0.9" },
    adaptiveP95VsOff: { value: ratio(adaptive?.p95Ms, off?.p95Ms), goal: "<= 0.5" },
    adaptiveThroughputVsFixed: { value: ratio(adaptive?.perSec, fixed?.perSec), goal: ">= 8" },
    failures: { value: results.reduce((n, r) => n + r.failures, 0), goal: "== 0" },
  };
  printJson("storm", env, { lifecycles, runs: results }, targets);
}

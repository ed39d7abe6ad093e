// `npm run bench -- workers [--workers 6] [--rounds 5]`: the `single` benchmark's service brought
// up by N test workers at once, each a process of its own with its own engine and limiter (as a
// test runner's workers are), and taken down by all of them at once. Sides: berth as configured
// by default (a network per environment), berth with `network_mode: bridge`, berth reusing a warm
// environment per worker, and testcontainers-node 11 (same image and command). Each side's N
// workers are started once and warmed up by one untimed up and down (code loaded, connections
// open, as in a test run); then each round sends every worker of a side "go" at the same moment
// and measures until the last one is ready (all ready), each worker's own up (its median over the
// workers is the "typical worker"), and the downs of all of them. Sides rotate which goes first.
// No targets: the figures say how the tools compare when the daemon is shared (berth's workers
// do not share a limiter unless they go through the guard proxy; docs/limiter.md).
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { defaultEngine } from "../src/guard/default-engine.js";
import { LABELS } from "../src/model/labels.js";
import { downEnvironment } from "../src/stack/down.js";
import { up } from "../src/stack/up.js";
import { gracefulAndVerified, singleSpec, startTestcontainer } from "./lib/single-service.js";
import {
  benchEnv,
  benchLeftovers,
  labelRun,
  median,
  option,
  printJson,
  printTable,
  ROOT,
  ratio,
  round,
} from "./support.js";

type Side = "berth" | "berthBridge" | "berthReused" | "testcontainers";
const SIDES: Side[] = ["berth", "berthBridge", "berthReused", "testcontainers"];

/**
 * One worker (`--worker SIDE --marker M`): warms up, says "ready", then per "go" brings the
 * service up and answers `up MS`, per "down" takes it down and answers `down MS GRACEFUL`; "quit"
 * (reused side: after removing its environment) ends it.
 */
async function worker(side: Side, marker: string): Promise<void> {
  const image = (await ensureBusyboxFixture(defaultEngine())).ref;
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // A reused round that found no idle environment (another worker took it) started cold: counted.
  let cold = 0;
  const bringUp = async (): Promise<() => Promise<boolean>> => {
    if (side === "testcontainers") {
      const container = await startTestcontainer(image, marker);
      return async () => {
        await container.stop();
        return true;
      };
    }
    const env = await up({
      spec: singleSpec(image, marker, side === "berthBridge" ? "bridge" : undefined),
      watch: true,
      reuse: side === "berthReused",
    });
    if (side === "berthReused" && !env.reused) cold += 1;
    return async () => {
      const { report } = await env.down();
      // A reused environment's down gives it back, running: nothing to check but that it resolved.
      return side === "berthReused" || gracefulAndVerified(report);
    };
  };
  // Untimed: code loaded, first connections, and for the reused side the worker's own environment.
  await (await bringUp())();
  cold = 0;
  say("ready");
  for (;;) {
    const command = (await lines.next()).value as string | undefined;
    if (command === undefined || command === "quit") break;
    const began = performance.now();
    const down = await bringUp();
    say(`up ${performance.now() - began} ${cold}`);
    await lines.next();
    const downBegan = performance.now();
    const graceful = await down();
    say(`down ${performance.now() - downBegan} ${graceful}`);
  }
  if (side === "berthReused") {
    const env = await up({ spec: singleSpec(image, marker), watch: true, reuse: true });
    await env.down({ remove: true });
  }
  say("bye");
}

interface Worker {
  child: ChildProcessByStdio<Writable, Readable, null>;
  next(): Promise<string>;
}

function spawnWorker(side: Side, marker: string): Worker {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/run.ts", "workers", "--worker", side, "--marker", marker],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error(`a ${side} worker ended early (exit ${child.exitCode})`);
      return value as string;
    },
  };
}

/**
 * Removes the run's reusable environments: the reused side's workers remove theirs as they quit,
 * but a reused round that started cold left one more, and a failed run all of them. Only reusable
 * ones: anything else left over is a leftover, and counted as one.
 */
async function removeReusable(engine: Engine, marker: string): Promise<void> {
  const reusable = await engine.listContainers({
    all: true,
    filters: { label: [`berth.bench=${marker}`, LABELS.reuseKey] },
  });
  for (const project of new Set(reusable.map((c) => c.Labels[LABELS.project] ?? "")))
    if (project) await downEnvironment(engine, { project, volumes: true });
}

interface Round {
  allReadyMs: number;
  workerUpMs: number[];
  allDownMs: number;
}

export default async function main(args: string[] = []): Promise<void> {
  const side = option(args, "worker", "");
  if (side) return worker(side as Side, option(args, "marker", ""));
  const count = Number(option(args, "workers", "6"));
  const rounds = Number(option(args, "rounds", process.env.BENCH_ROUNDS ?? "5"));
  const marker = `workers-${process.pid}`;
  // Inherited by the workers: everything berth creates for them carries the run's marker.
  labelRun("berth.bench", marker);
  const engine = defaultEngine();
  await ensureBusyboxFixture(engine);
  const workers = {} as Record<Side, Worker[]>;
  // A failed run takes its workers with it (berth's own reap their sessions as their owners die).
  const killAll = () => {
    for (const ws of Object.values(workers)) for (const w of ws) w.child.kill();
  };
  const results = Object.fromEntries(SIDES.map((s) => [s, [] as Round[]])) as Record<Side, Round[]>;
  const graceful: boolean[] = [];
  // Reused rounds that found no idle environment and started cold (the workers' running count).
  let reusedCold = 0;
  try {
    for (const s of SIDES) {
      workers[s] = Array.from({ length: count }, () => spawnWorker(s, marker));
      for (const w of workers[s]) if ((await w.next()) !== "ready") throw new Error(`${s} worker not ready`);
    }
    for (let i = 0; i < rounds; i++) {
      const order = SIDES.map((_, k) => SIDES[(k + i) % SIDES.length]!);
      for (const s of order) {
        const ws = workers[s];
        const began = performance.now();
        for (const w of ws) w.child.stdin.write("go\n");
        const answers = await Promise.all(ws.map(async (w) => (await w.next()).split(" ")));
        const allReadyMs = performance.now() - began;
        const workerUpMs = answers.map((a) => Number(a[1]));
        if (s === "berthReused") reusedCold = answers.reduce((sum, a) => sum + Number(a[2]), 0);
        const downBegan = performance.now();
        for (const w of ws) w.child.stdin.write("down\n");
        const downs = await Promise.all(ws.map((w) => w.next()));
        const allDownMs = performance.now() - downBegan;
        if (s === "berth" || s === "berthBridge") graceful.push(...downs.map((d) => d.endsWith(" true")));
        results[s].push({ allReadyMs, workerUpMs, allDownMs });
        process.stdout.write(
          `round ${i + 1}/${rounds} ${s}: all ${count} ready ${allReadyMs.toFixed(0)} ms (typical worker ${median(workerUpMs).toFixed(0)}), all down ${allDownMs.toFixed(0)} ms\n`,
        );
      }
    }
    for (const s of SIDES) for (const w of workers[s]) w.child.stdin.write("quit\n");
    for (const s of SIDES)
      for (const w of workers[s])
        if ((await w.next()) !== "bye") throw new Error(`a ${s} worker did not finish`);
    // The end of its input lets a worker's event loop end.
    for (const s of SIDES) for (const w of workers[s]) w.child.stdin.end();
  } catch (error) {
    killAll();
    await removeReusable(engine, marker);
    throw error;
  }
  await removeReusable(engine, marker);
  const left = await benchLeftovers(engine, marker);
  const summary = (rs: Round[]) => ({
    allReadyMs: round(median(rs.map((r) => r.allReadyMs)), 1),
    typicalWorkerUpMs: round(median(rs.map((r) => median(r.workerUpMs))), 1),
    slowestWorkerUpMs: round(median(rs.map((r) => Math.max(...r.workerUpMs))), 1),
    allDownMs: round(median(rs.map((r) => r.allDownMs)), 1),
  });
  const figures = Object.fromEntries(SIDES.map((s) => [s, summary(results[s])])) as Record<
    Side,
    ReturnType<typeof summary>
  >;
  const t = figures.testcontainers;
  const names: Record<Side, string> = {
    berth: "berth library (default)",
    berthBridge: "berth library, network_mode: bridge",
    berthReused: "berth library, reused (warm)",
    testcontainers: "testcontainers (Ryuk off)",
  };
  printTable(
    `${count} workers at once, one service each, median of ${rounds} rounds (ms; ratio to testcontainers)`,
    ["tool", "all ready", "typical worker", "slowest worker", "all down", "all ready ratio", "typical ratio"],
    SIDES.map((s) => [
      names[s],
      figures[s].allReadyMs,
      figures[s].typicalWorkerUpMs,
      figures[s].slowestWorkerUpMs,
      figures[s].allDownMs,
      ratio(figures[s].allReadyMs, t.allReadyMs),
      ratio(figures[s].typicalWorkerUpMs, t.typicalWorkerUpMs),
    ]),
  );
  const gracefulCount = graceful.filter(Boolean).length;
  process.stdout.write(
    `graceful verified downs: ${gracefulCount}/${graceful.length}; leftovers: ${left.length}\n`,
  );
  printJson(
    "workers",
    { ...(await benchEnv(engine)), workers: count, rounds },
    {
      ...figures,
      allReadyVsTestcontainers: Object.fromEntries(
        SIDES.map((s) => [s, ratio(figures[s].allReadyMs, t.allReadyMs)]),
      ),
      typicalWorkerVsTestcontainers: Object.fromEntries(
        SIDES.map((s) => [s, ratio(figures[s].typicalWorkerUpMs, t.typicalWorkerUpMs)]),
      ),
      gracefulVerifiedDowns: gracefulCount,
      reusedRoundsStartedCold: reusedCold,
      leftovers: left.length,
      rounds: results,
    },
    {
      graceful_verified_downs: { value: gracefulCount, goal: `== ${graceful.length}` },
      leftovers: { value: left.length, goal: "== 0" },
    },
  );
}

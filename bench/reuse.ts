// bench/reuse: the 5-service benchmark stack (bench/stack.ts) brought up cold and then reused.
// Library: in each round a cold `up` (no reuse; then down) and a warm `up({ reuse: true })` of an
// environment left idle (then released), alternating which goes first; medians of the rounds and
// the warm/cold ratio. CLI: `berth up --reuse --json` against the idle environment, timed from
// process start to exit (and its CPU time, steadier on a busy machine). Parallel: 4 owner
// processes at once, twice, from no idle environment: the first round must create 4
// environments, the second reuse the same 4; while all four hold their lease, each environment's
// lease on the daemon must be a take by the very owner that reported it (never one shared).
// Targets: warm library up <= 150 ms and <= 0.05x cold; CLI <= 250 ms.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { gc } from "../src/janitor/gc.js";
import { leaseGenerationOf } from "../src/janitor/lease.js";
import { LABELS, parseOwner } from "../src/model/labels.js";
import { up } from "../src/stack/up.js";
import { type OwnerProcess, startTestScript } from "../test/docker/janitor-support.js";
import { composeFile, ensureFreshBuild } from "./stack.js";
import { benchEnv, median, peakRssProbe, printJson, printTable, round } from "./support.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const OWNERS = 4;
const ROOT = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const CLI = join(ROOT, "bin", "berth.js");

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

interface ParallelRound {
  sessions: string[];
  reused: number;
  /** Environments whose current lease, seen while all owners held theirs, was not the reporting owner's. */
  notHeldByReporter: number;
}

/**
 * The lease each environment carries on the daemon while every owner holds its own: the top
 * generation must be a `take` by the owner process that reported the environment.
 */
async function leaseHolders(engine: Engine, sessions: string[]): Promise<Map<string, number | undefined>> {
  const holders = new Map<string, number | undefined>();
  for (const session of new Set(sessions)) {
    const leases = await engine.listContainers({
      all: true,
      filters: { label: [`${LABELS.session}=${session}`, LABELS.lease] },
    });
    const top = leases.sort(
      (a, b) => leaseGenerationOf(b.Labels ?? {}) - leaseGenerationOf(a.Labels ?? {}),
    )[0];
    holders.set(
      session,
      top?.Labels?.[LABELS.lease] === "take" ? parseOwner(top.Labels[LABELS.owner])?.pid : undefined,
    );
  }
  return holders;
}

async function parallelRound(engine: Engine, file: string): Promise<ParallelRound> {
  const owners: OwnerProcess[] = Array.from({ length: OWNERS }, () =>
    startTestScript("reuse-owner.ts", [file, "until-line"]),
  );
  await Promise.all(owners.map((o) => o.waitFor((e) => e.event === "waiting")));
  // The first line starts them; stdin stays open (go() would end it, and an owner whose stdin
  // has ended exits at once, its lease then released by its watchdog as a dead owner's).
  for (const o of owners) o.child.stdin!.write("go\n");
  // All four hold their lease at this point: none has been told to release yet.
  const ups = await Promise.all(owners.map((o) => o.waitFor((e) => e.event === "up")));
  const holders = await leaseHolders(
    engine,
    ups.map((u) => u.session!),
  );
  const notHeldByReporter = ups.filter(
    (u, i) => holders.get(u.session!) !== owners[i]!.child.pid || owners[i]!.child.exitCode !== null,
  ).length;
  for (const o of owners) o.go();
  await Promise.all(owners.map((o) => o.exited));
  return {
    sessions: ups.map((u) => u.session!),
    reused: ups.filter((u) => u.reused).length,
    notHeldByReporter,
  };
}

export default async function main(): Promise<void> {
  const engine = new Engine();
  await ensureFreshBuild();
  const fixture = await ensureBusyboxFixture(engine);
  const marker = `reuse-${randomUUID().slice(0, 8)}`;
  process.env.BERTH_LABELS = [process.env.BERTH_LABELS, `bench.stack=${marker}`].filter(Boolean).join(",");
  process.env.BERTH_REUSE = "force";
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-reuse-"));
  const file = join(dir, "compose.yml");
  writeFileSync(file, composeFile(fixture.ref, marker));
  const cold: number[] = [];
  const warm: number[] = [];
  const cli: number[] = [];
  const cliCpu: number[] = [];
  let parallel: { first: ParallelRound; second: ParallelRound };
  try {
    // Untimed: the reusable environment the warm rounds take over and give back.
    await (await up({ files: [file], reuse: true, watch: false })).down();
    for (let i = 0; i < ROUNDS; i++) {
      const coldRound = async () => {
        let env: Awaited<ReturnType<typeof up>> | undefined;
        cold.push(await timed(async () => (env = await up({ files: [file], reuse: false, watch: false }))));
        await env!.down();
      };
      const warmRound = async () => {
        let env: Awaited<ReturnType<typeof up>> | undefined;
        warm.push(await timed(async () => (env = await up({ files: [file], reuse: true, watch: false }))));
        if (!env!.reused) throw new Error("the warm round did not reuse the idle environment");
        await env!.down();
      };
      if (i % 2 === 0) {
        await coldRound();
        await warmRound();
      } else {
        await warmRound();
        await coldRound();
      }
      const probe = peakRssProbe();
      cli.push(
        await timed(() =>
          run(process.execPath, [...probe.execArgv, CLI, "up", "--reuse", "-f", file, "--json"], {
            env: probe.env,
          }),
        ),
      );
      const cpu = probe.read()?.cpuMs;
      if (cpu !== undefined) cliCpu.push(cpu);
    }
    // The parallel rounds start from no idle environment: the first must create all four.
    await gc(engine, { label: { key: "bench.stack", value: marker }, all: true, reusable: "all" });
    const first = await parallelRound(engine, file);
    const second = await parallelRound(engine, file);
    parallel = { first, second };
  } finally {
    // Every environment of this run, reusable ones included.
    await gc(engine, { label: { key: "bench.stack", value: marker }, all: true, reusable: "all" });
    await gc(engine, { label: { key: "bench.stack", value: marker }, all: true });
    rmSync(dir, { recursive: true, force: true });
  }
  const distinct = (s: string[]) => new Set(s).size;
  // Shared at once: two owners reported the same environment, or one's lease was not its own.
  const sharedAtOnce = (r: ParallelRound) => OWNERS - distinct(r.sessions) + r.notHeldByReporter;
  const firstOk =
    distinct(parallel.first.sessions) === OWNERS &&
    parallel.first.reused === 0 &&
    sharedAtOnce(parallel.first) === 0;
  const secondOk =
    distinct(parallel.second.sessions) === OWNERS &&
    parallel.second.reused === OWNERS &&
    parallel.second.sessions.every((s) => parallel.first.sessions.includes(s)) &&
    sharedAtOnce(parallel.second) === 0;
  const coldMs = median(cold);
  const warmMs = median(warm);
  const cliMs = median(cli);
  printTable(
    `reuse: 5-service stack, ${ROUNDS} alternating rounds (medians, ms)`,
    ["cold up", "reused up", "ratio", "CLI up --reuse", "CLI CPU"],
    [[coldMs, warmMs, round(warmMs / coldMs, 3), cliMs, median(cliCpu)]],
  );
  printTable(
    `${OWNERS} parallel owners, twice (all holding their lease at once)`,
    ["round", "distinct environments", "reused", "same as round 1", "shared by two owners at once"],
    [parallel.first, parallel.second].map((r, i) => [
      String(i + 1),
      distinct(r.sessions),
      r.reused,
      i === 0 ? "-" : String(r.sessions.filter((s) => parallel.first.sessions.includes(s)).length),
      sharedAtOnce(r),
    ]),
  );
  printJson(
    "reuse",
    await benchEnv(engine),
    {
      rounds: ROUNDS,
      coldUpMs: cold.map((v) => round(v, 1)),
      reusedUpMs: warm.map((v) => round(v, 1)),
      cliUpMs: cli.map((v) => round(v, 1)),
      cliCpuMs: cliCpu,
      parallel,
    },
    {
      reusedUpMs: { value: round(warmMs, 1), goal: "<= 150" },
      reusedToCold: { value: round(warmMs / coldMs, 4), goal: "<= 0.05" },
      cliReusedUpMs: { value: round(cliMs, 1), goal: "<= 250" },
      parallelFirstRound: { value: distinct(parallel.first.sessions), goal: `${OWNERS} distinct` },
      parallelSecondRound: { value: secondOk ? OWNERS : 0, goal: `the same ${OWNERS}, all reused` },
      sharedAtOnce: {
        value: sharedAtOnce(parallel.first) + sharedAtOnce(parallel.second),
        goal: "0",
      },
    },
  );
  if (!firstOk || !secondOk) process.exitCode = 1;
}

// bench/reuse: the 5-service benchmark stack (bench/stack.ts) brought up cold and then reused.
// Library: in each round a cold `up` (no reuse; then down) and a warm `up({ reuse: true })` of an
// environment left idle (then released), alternating which goes first; medians of the rounds and
// the warm/cold ratio. CLI: `berth up --reuse --json` against the idle environment, timed from
// process start to exit (and its CPU time, steadier on a busy machine), in rounds of its own after
// the library's. Parallel: 4 owner
// processes at once, twice, from no idle environment: the first round must create 4
// environments, the second reuse the same 4; while all four hold their lease, each environment's
// lease on the daemon must be a take by the very owner that reported it (never one shared).
// Targets: warm library up <= 150 ms and <= 0.05x cold; CLI <= 250 ms. Because wall times on a
// shared machine say more about the machine than about berth, the warm rounds also give their
// phases (from the guard's debug log: loading the file, images + candidate list, lease, reset)
// and API calls, and the CLI rounds run `node -e 0` and `berth --version` beside `up --reuse`.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { createEngine } from "../src/guard/guard.js";
import { gc } from "../src/janitor/gc.js";
import { leaseGenerationOf } from "../src/janitor/lease.js";
import { LABELS, parseOwner } from "../src/model/labels.js";
import { resolveProject, up } from "../src/stack/up.js";
import { type OwnerProcess, startTestScript } from "../test/docker/janitor-support.js";
import { composeFile } from "./stack.js";
import {
  benchEnv,
  ensureFreshBuild,
  labelRun,
  median,
  peakRssProbe,
  printJson,
  printTable,
  round,
} from "./support.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The CLI's rounds are short: more of them, for a steadier median. */
const CLI_ROUNDS = Math.max(ROUNDS, 11);
const OWNERS = 4;
const ROOT = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const CLI = join(ROOT, "bin", "berth.js");

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

/** One warm `up`, taken apart: its phases (ms) and the API calls it made. */
interface WarmBreakdown {
  loadMs: number;
  keyAndCandidatesMs: number;
  leaseMs: number;
  resetMs: number;
  calls: Record<string, number>;
}

/** The reuse phases and calls of one `up` from the guard's JSON debug lines; `loadMs` apart. */
function breakdown(lines: string[], loadMs: number): WarmBreakdown {
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const phase = (name: string) =>
    entries
      .filter((e) => e.event === "phase" && e.phase === name)
      .reduce((sum, e) => sum + (e.durationMs as number), 0);
  const calls: Record<string, number> = {};
  for (const e of entries.filter((e) => e.event === "call")) {
    calls[e.operation as string] = (calls[e.operation as string] ?? 0) + 1;
  }
  return {
    loadMs,
    keyAndCandidatesMs: phase("reuse-key-and-candidates"),
    leaseMs: phase("reuse-lease"),
    resetMs: phase("reuse-reset"),
    calls,
  };
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
  labelRun("bench.stack", marker);
  process.env.BERTH_REUSE = "force";
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-reuse-"));
  const file = join(dir, "compose.yml");
  writeFileSync(file, composeFile(fixture.ref, marker));
  const cold: number[] = [];
  const warm: number[] = [];
  const phases: WarmBreakdown[] = [];
  const cli: number[] = [];
  const cliCpu: number[] = [];
  const nodeBare: number[] = [];
  const cliVersion: number[] = [];
  const loadBefore = loadavg();
  // The warm rounds' engine logs its calls and phases (JSON lines) for the breakdown.
  let logged: string[] = [];
  const warmEngine = createEngine({
    log: { level: "debug", format: "json" },
    logSink: (line) => void logged.push(line.trim()),
  });
  let parallel: { first: ParallelRound; second: ParallelRound };
  /** The medians of the rounds, printed as two tables. */
  const summarise = () => {
    const coldMs = median(cold);
    const warmMs = median(warm);
    const cliMs = median(cli);
    const loadAfter = loadavg();
    const phaseMedians = {
      loadMs: round(median(phases.map((p) => p.loadMs)), 1),
      keyAndCandidatesMs: round(median(phases.map((p) => p.keyAndCandidatesMs)), 1),
      leaseMs: round(median(phases.map((p) => p.leaseMs)), 1),
      resetMs: round(median(phases.map((p) => p.resetMs)), 1),
    };
    printTable(
      `reuse: 5-service stack, ${ROUNDS} alternating rounds (medians, ms; load ${round(loadBefore[0]!, 1)} -> ${round(loadAfter[0]!, 1)})`,
      ["cold up", "reused up", "ratio", "CLI up --reuse", "CLI CPU", "node -e 0", "berth --version"],
      [
        [
          coldMs,
          warmMs,
          round(warmMs / coldMs, 3),
          cliMs,
          median(cliCpu),
          median(nodeBare),
          median(cliVersion),
        ],
      ],
    );
    printTable(
      "reused up, phase by phase (medians, ms)",
      ["load the file", "image ids + candidate list", "lease", "reset", "API calls"],
      [
        [
          phaseMedians.loadMs,
          phaseMedians.keyAndCandidatesMs,
          phaseMedians.leaseMs,
          phaseMedians.resetMs,
          Object.entries(phases[0]?.calls ?? {})
            .map(([op, n]) => `${op} ${n}`)
            .join(", "),
        ],
      ],
    );
    return { coldMs, warmMs, cliMs, loadAfter, phaseMedians };
  };
  let summed: ReturnType<typeof summarise> | undefined;
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
        logged = [];
        warm.push(
          await timed(
            async () => (env = await up({ files: [file], reuse: true, watch: false, engine: warmEngine })),
          ),
        );
        // down() logs on into a new array: upLines keeps the up's lines only.
        const upLines = logged;
        logged = [];
        if (!env!.reused) throw new Error("the warm round did not reuse the idle environment");
        await env!.down();
        // Loading the file is not a phase of the log: timed on its own, as `up` does it.
        phases.push(breakdown(upLines, await timed(() => resolveProject({ files: [file] }))));
      };
      if (i % 2 === 0) {
        await coldRound();
        await warmRound();
      } else {
        await warmRound();
        await coldRound();
      }
    }
    // The CLI in rounds of its own, after the library's: right after a cold round the machine is
    // still busy with its teardown (a bare `node -e 0` took 100-210 ms there instead of 60-70),
    // which timed the machine rather than the command. Beside a bare Node start-up and
    // `berth --version`, in an order that rotates.
    const cliRuns = [
      async () => nodeBare.push(await timed(() => run(process.execPath, ["-e", "0"]))),
      async () => cliVersion.push(await timed(() => run(process.execPath, [CLI, "--version"]))),
      async () => {
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
      },
    ];
    for (let i = 0; i < CLI_ROUNDS; i++) {
      for (let k = 0; k < cliRuns.length; k++) await cliRuns[(i + k) % cliRuns.length]!();
    }
    // Printed before the parallel rounds, so that a failure there keeps these figures.
    summed = summarise();
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
  const { coldMs, warmMs, cliMs, loadAfter, phaseMedians } = summed!;
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
      cliRounds: CLI_ROUNDS,
      coldUpMs: cold.map((v) => round(v, 1)),
      reusedUpMs: warm.map((v) => round(v, 1)),
      reusedPhasesMs: phaseMedians,
      reusedCalls: phases.map((p) => p.calls),
      cliUpMs: cli.map((v) => round(v, 1)),
      cliCpuMs: cliCpu,
      nodeBareMs: nodeBare.map((v) => round(v, 1)),
      cliVersionMs: cliVersion.map((v) => round(v, 1)),
      loadAverage: { before: loadBefore.map((v) => round(v, 1)), after: loadAfter.map((v) => round(v, 1)) },
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

// bench/reuse: the 5-service benchmark stack (bench/stack.ts) brought up cold and then reused.
// Library: in each round a cold `up` (no reuse; then down) and a warm `up({ reuse: true })` of an
// environment left idle (then released), alternating which goes first; medians of the rounds and
// the warm/cold ratio. CLI: `berth up --reuse --json` against the idle environment, timed from
// process start to exit. Parallel: 4 owner processes at once, twice: the first round must create
// 4 environments, the second reuse the same 4, and no two owners ever hold the same one.
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
import { up } from "../src/stack/up.js";
import { type OwnerProcess, startTestScript } from "../test/docker/janitor-support.js";
import { composeFile, ensureFreshBuild } from "./stack.js";
import { benchEnv, median, printJson, printTable, round } from "./support.js";

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

async function parallelRound(file: string): Promise<{ sessions: string[]; reused: number }> {
  const owners: OwnerProcess[] = Array.from({ length: OWNERS }, () =>
    startTestScript("reuse-owner.ts", [file, "until-line"]),
  );
  await Promise.all(owners.map((o) => o.waitFor((e) => e.event === "waiting")));
  for (const o of owners) o.go();
  // All four hold their lease at this point: none has been told to release yet.
  const ups = await Promise.all(owners.map((o) => o.waitFor((e) => e.event === "up")));
  for (const o of owners) o.go();
  await Promise.all(owners.map((o) => o.exited));
  return { sessions: ups.map((u) => u.session!), reused: ups.filter((u) => u.reused).length };
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
  let parallel: {
    first: { sessions: string[]; reused: number };
    second: { sessions: string[]; reused: number };
  };
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
      cli.push(
        await timed(() =>
          run(process.execPath, [CLI, "up", "--reuse", "-f", file, "--json"], { env: process.env }),
        ),
      );
    }
    const first = await parallelRound(file);
    const second = await parallelRound(file);
    parallel = { first, second };
  } finally {
    // Every environment of this run, reusable ones included.
    await gc(engine, { label: { key: "bench.stack", value: marker }, all: true, reusable: "all" });
    await gc(engine, { label: { key: "bench.stack", value: marker }, all: true });
    rmSync(dir, { recursive: true, force: true });
  }
  const distinct = (s: string[]) => new Set(s).size;
  // The first round's idle environment from the warm rounds is one of the four it may take.
  const firstOk = distinct(parallel.first.sessions) === OWNERS;
  const secondOk =
    distinct(parallel.second.sessions) === OWNERS &&
    parallel.second.reused === OWNERS &&
    parallel.second.sessions.every((s) => parallel.first.sessions.includes(s));
  const coldMs = median(cold);
  const warmMs = median(warm);
  const cliMs = median(cli);
  printTable(
    `reuse: 5-service stack, ${ROUNDS} alternating rounds (medians, ms)`,
    ["cold up", "reused up", "ratio", "CLI up --reuse"],
    [[coldMs, warmMs, round(warmMs / coldMs, 3), cliMs]],
  );
  printTable(
    `${OWNERS} parallel owners, twice`,
    ["round", "distinct environments", "reused"],
    [
      ["1", distinct(parallel.first.sessions), parallel.first.reused],
      ["2", distinct(parallel.second.sessions), parallel.second.reused],
    ],
  );
  printJson(
    "reuse",
    await benchEnv(engine),
    {
      rounds: ROUNDS,
      coldUpMs: cold.map((v) => round(v, 1)),
      reusedUpMs: warm.map((v) => round(v, 1)),
      cliUpMs: cli.map((v) => round(v, 1)),
      parallel,
    },
    {
      reusedUpMs: { value: round(warmMs, 1), goal: "<= 150" },
      reusedToCold: { value: round(warmMs / coldMs, 4), goal: "<= 0.05" },
      cliReusedUpMs: { value: round(cliMs, 1), goal: "<= 250" },
      parallelFirstRound: { value: distinct(parallel.first.sessions), goal: `${OWNERS} distinct` },
      parallelSecondRound: { value: secondOk ? OWNERS : 0, goal: `the same ${OWNERS}, all reused` },
    },
  );
  if (!firstOk || !secondOk) process.exitCode = 1;
}

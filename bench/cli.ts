// `npm run bench -- cli [--rounds 15] [--compare OTHER/bin/berth.js]`: what the `berth` command line costs on top of the library
// call it wraps. Alternating rounds of `node -e 0` (the floor: a bare Node start), `berth
// --version`, `berth ps -p P` against listServices() in this process, and `berth down -p P`
// against downEnvironment() in this process, P being a project that does not exist (so each
// call is the command's fixed cost plus a daemon round trip or three). A command's fixed cost is
// the median CLI wall time minus the median library call on a warm engine; each CLI run's peak
// RSS and CPU time are read from /proc and process.cpuUsage() as it exits. `--compare` runs
// another build's CLI (an older checkout, say) in the same alternating rounds. Targets: --version <= 100 ms wall, fixed cost <= 100 ms.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { createEngine } from "../src/guard/guard.js";
import { downEnvironment } from "../src/stack/down.js";
import { listServices } from "../src/stack/status.js";
import {
  benchEnv,
  ensureFreshBuild,
  median,
  option,
  peakRssProbe,
  printJson,
  printTable,
  ROOT,
  round,
} from "./support.js";

const run = promisify(execFile);
const CLI = join(ROOT, "bin", "berth.js");

interface Sample {
  ms: number;
  peakRssMb?: number;
  cpuMs?: number;
}

async function timedNode(args: string[]): Promise<Sample> {
  const probe = peakRssProbe();
  const t0 = performance.now();
  await run(process.execPath, [...probe.execArgv, ...args], { env: probe.env });
  return { ms: performance.now() - t0, ...probe.read() };
}

async function timed(work: () => Promise<unknown>): Promise<Sample> {
  const t0 = performance.now();
  await work();
  return { ms: performance.now() - t0 };
}

export default async function cliBench(args: string[] = []): Promise<void> {
  const rounds = Number(option(args, "rounds", "15"));
  await ensureFreshBuild();
  const engine = createEngine();
  const env = await benchEnv(engine);
  const project = `berth-bench-cli-${randomUUID().slice(0, 8)}`;
  const cases: Record<string, () => Promise<Sample>> = {
    "node -e 0": () => timedNode(["-e", "0"]),
    "berth --version": () => timedNode([CLI, "--version"]),
    "berth ps": () => timedNode([CLI, "ps", "-p", project]),
    "library listServices": () => timed(() => listServices(engine, { project })),
    "berth down": () => timedNode([CLI, "down", "-p", project]),
    "library downEnvironment": () => timed(() => downEnvironment(engine, { project })),
  };
  const compare = option(args, "compare", "");
  if (compare) {
    cases["compare --version"] = () => timedNode([compare, "--version"]);
    cases["compare ps"] = () => timedNode([compare, "ps", "-p", project]);
    cases["compare down"] = () => timedNode([compare, "down", "-p", project]);
  }
  const names = Object.keys(cases);
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Two untimed rounds warm the disk cache, the daemon and this process's engine.
  for (let i = -2; i < rounds; i++) {
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const sample = await cases[name]!();
      if (i >= 0) samples[name]!.push(sample);
    }
  }
  const ms = (name: string) => median(samples[name]!.map((s) => s.ms));
  const of = (name: string, key: "peakRssMb" | "cpuMs") => {
    const values = samples[name]!.flatMap((s) => (s[key] === undefined ? [] : [s[key]]));
    return values.length === 0 ? undefined : round(median(values), 1);
  };
  const psFixed = ms("berth ps") - ms("library listServices");
  const downFixed = ms("berth down") - ms("library downEnvironment");
  printTable(
    `berth CLI start-up, median of ${rounds} alternating rounds (wall and CPU in ms, peak RSS in MB)`,
    ["case", "wall", "CPU", "peak RSS"],
    names.map((n) => [n, round(ms(n), 1), of(n, "cpuMs") ?? "-", of(n, "peakRssMb") ?? "-"]),
  );
  printTable(
    "fixed cost of a command: CLI wall minus the library call it wraps (ms)",
    ["command", "fixed cost", "over node -e 0"],
    [
      ["berth --version", ms("berth --version"), ms("berth --version") - ms("node -e 0")],
      ["berth ps", psFixed, psFixed - ms("node -e 0")],
      ["berth down", downFixed, downFixed - ms("node -e 0")],
      ...(compare
        ? [
            ["compare --version", ms("compare --version"), ms("compare --version") - ms("node -e 0")],
            [
              "compare ps",
              ms("compare ps") - ms("library listServices"),
              ms("compare ps") - ms("library listServices") - ms("node -e 0"),
            ],
            [
              "compare down",
              ms("compare down") - ms("library downEnvironment"),
              ms("compare down") - ms("library downEnvironment") - ms("node -e 0"),
            ],
          ]
        : []),
    ],
  );
  const figures = Object.fromEntries(
    names.map((n) => [
      n,
      {
        ms: round(ms(n), 1),
        ...(n.startsWith("library") ? {} : { cpuMs: of(n, "cpuMs"), peakRssMb: of(n, "peakRssMb") }),
      },
    ]),
  );
  printJson(
    "cli",
    { ...env, rounds },
    { ...figures, psFixedMs: round(psFixed, 1), downFixedMs: round(downFixed, 1) },
    {
      versionMs: { value: round(ms("berth --version"), 1), goal: "<= 100" },
      psFixedMs: { value: round(psFixed, 1), goal: "<= 100" },
      downFixedMs: { value: round(downFixed, 1), goal: "<= 100" },
    },
  );
}

// bench/stack: a 5-service stack with healthchecks and a dependency chain (db, cache -> api ->
// worker, web), brought up until every service is healthy and taken down again, through berth
// and through Debian's docker-compose v1 (`up -d`, then polling health until all are healthy,
// then `down`) in the same run, alternating which goes first. The file uses nothing
// docker-compose v1 lacks (no start_interval), so both read the very same file.
// `npm run bench -- stack --stack reference` does the same with the reference stack
// (examples/reference-stack, compose.yml + compose.test.yml: PostgreSQL, Redis, ClickHouse,
// backend, auth), whose images are built locally first; down removes its named volumes on both
// sides, and one untimed warm-up round per side builds backend and auth (each tool its own way).
// `--compare OTHER/bin/berth.js` adds another build's `berth` command as a fourth side, in the same
// rotating rounds (before/after figures of a change to the command).
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { ensureReferenceStackImages } from "../src/fixtures/reference-stack.js";
import { up } from "../src/stack/up.js";
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
const ROOT = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const CLI = join(ROOT, "bin", "berth.js");

export function composeFile(image: string, marker: string): string {
  const service = (deps: string[]) => `
    image: ${image}
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/health && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
    ports: ["127.0.0.1::8080"]
    labels:
      bench.stack: ${marker}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 10s
      retries: 60${
        deps.length === 0
          ? ""
          : `
    depends_on:${deps.map((d) => `\n      ${d}:\n        condition: service_healthy`).join("")}`
      }`;
  return `services:
  db:${service([])}
  cache:${service([])}
  api:${service(["db", "cache"])}
  worker:${service(["api"])}
  web:${service(["api"])}
networks:
  default:
    labels:
      bench.stack: ${marker}
`;
}

interface Timing {
  upMs: number;
  downMs: number;
  /** Peak resident memory of the `berth up` process (CLI side only). */
  upPeakRssMb?: number;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

/** What one benchmark run brings up and down. */
interface StackUnderTest {
  name: string;
  files: string[];
  services: number;
  /** Named volumes go with down (the reference stack's PostgreSQL and ClickHouse data). */
  volumes: boolean;
  /** Untimed rounds per side first (image builds, caches). */
  warmUp: number;
}

const fileArgs = (files: string[]) => files.flatMap((f) => ["-f", f]);
const MAX_BUFFER = 64 * 1024 * 1024;

async function berthCli(stack: StackUnderTest, project: string, cli = CLI): Promise<Timing> {
  const env = { ...process.env, CI: "true" };
  const opts = { env, maxBuffer: MAX_BUFFER };
  const probe = peakRssProbe();
  const upMs = await timed(() =>
    run(process.execPath, [...probe.execArgv, cli, "up", ...fileArgs(stack.files), "-p", project], {
      ...opts,
      env: { ...probe.env, CI: "true" },
    }),
  );
  const upPeakRssMb = probe.read()?.peakRssMb;
  const down = [cli, "down", "-p", project, ...(stack.volumes ? ["--volumes"] : [])];
  const downMs = await timed(() => run(process.execPath, down, opts));
  return { upMs, downMs, ...(upPeakRssMb === undefined ? {} : { upPeakRssMb }) };
}

async function berthLibrary(stack: StackUnderTest, project: string): Promise<Timing> {
  let env: Awaited<ReturnType<typeof up>> | undefined;
  const upMs = await timed(async () => {
    env = await up({ files: stack.files, project });
  });
  const downMs = await timed(() => env!.down({ volumes: stack.volumes }));
  return { upMs, downMs };
}

async function allHealthy(engine: Engine, project: string, services: number): Promise<boolean> {
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  return containers.length === services && containers.every((c) => /\(healthy\)/.test(c.Status));
}

async function compose(engine: Engine, stack: StackUnderTest, project: string): Promise<Timing> {
  const args = [...fileArgs(stack.files), "-p", project];
  const opts = { maxBuffer: MAX_BUFFER };
  const upMs = await timed(async () => {
    await run("docker-compose", [...args, "up", "-d"], opts);
    while (!(await allHealthy(engine, project, stack.services))) await new Promise((r) => setTimeout(r, 100));
  });
  const downMs = await timed(() =>
    run("docker-compose", [...args, "down", ...(stack.volumes ? ["-v"] : [])], opts),
  );
  // Untimed: the images docker-compose built for this project (`<project>_<service>`); it builds
  // them again for every new project name, where berth reuses its content-addressed builds.
  const built = await engine.listImages({ reference: [`${project}_*`] });
  for (const image of built) await engine.removeImage(image.Id).catch(() => undefined);
  return { upMs, downMs };
}

/** What either side left: by the marker label (busybox stack) and by project name (both stacks). */
async function leftovers(engine: Engine, marker: string, projects: string[]): Promise<number> {
  let count = 0;
  const filterSets = [
    { label: [`bench.stack=${marker}`] },
    ...projects.flatMap((p) => [
      { label: [`com.docker.compose.project=${p}`] },
      { label: [`berth.project=${p}`] },
    ]),
  ];
  const seen = new Set<string>();
  for (const filters of filterSets) {
    const [containers, networks, volumes] = await Promise.all([
      engine.listContainers({ all: true, filters }),
      engine.listNetworks(filters),
      engine.listVolumes(filters),
    ]);
    for (const id of [
      ...containers.map((c) => c.Id),
      ...networks.map((n) => n.Id),
      ...volumes.map((v) => v.Name),
    ]) {
      if (!seen.has(id)) count += 1;
      seen.add(id);
    }
  }
  return count;
}

export default async function main(args: string[] = []): Promise<void> {
  const engine = new Engine();
  const which = args.includes("--stack") ? args[args.indexOf("--stack") + 1] : "busybox";
  if (which !== "busybox" && which !== "reference") {
    process.stderr.write(`bench stack: --stack must be busybox or reference, not ${which}\n`);
    process.exit(2);
  }
  const version = (await run("docker-compose", ["version", "--short"])).stdout.trim();
  await ensureFreshBuild();
  const marker = `stack-${randomUUID().slice(0, 8)}`;
  // berth's own resources carry the marker too (BERTH_LABELS), so one check sees both sides' leftovers.
  labelRun("bench.stack", marker);
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-stack-"));
  let stack: StackUnderTest;
  if (which === "reference") {
    const built = await ensureReferenceStackImages(engine);
    process.stdout.write(`reference images ready in ${(built.durationMs / 1000).toFixed(1)}s\n`);
    const stackDir = join(ROOT, "examples", "reference-stack");
    stack = {
      name: "reference stack (postgres, redis, clickhouse, backend, auth)",
      files: [join(stackDir, "compose.yml"), join(stackDir, "compose.test.yml")],
      services: 5,
      volumes: true,
      warmUp: 1,
    };
  } else {
    const image = (await ensureBusyboxFixture(engine)).ref;
    const file = join(dir, "compose.yml");
    writeFileSync(file, composeFile(image, marker));
    stack = { name: "5-service busybox stack", files: [file], services: 5, volumes: false, warmUp: 0 };
  }
  const compare = args.includes("--compare") ? args[args.indexOf("--compare") + 1] : undefined;
  const results: Record<"berth" | "library" | "compose" | "compare", Timing[]> = {
    berth: [],
    library: [],
    compose: [],
    compare: [],
  };
  const projects: string[] = [];
  try {
    for (let i = -stack.warmUp; i < ROUNDS; i++) {
      const sides: (keyof typeof results)[] = compare
        ? (["berth", "compare", "compose", "library"] as const).map((_, k, all) => all[(k + i + 4) % 4]!)
        : i % 2 === 0
          ? ["berth", "compose", "library"]
          : ["compose", "berth", "library"];
      for (const side of sides) {
        const project = `bench-${side}-${marker.slice(6)}-${i < 0 ? `w${-i}` : i}`;
        projects.push(project);
        const timing =
          side === "compose"
            ? await compose(engine, stack, project)
            : side === "berth"
              ? await berthCli(stack, project)
              : side === "compare"
                ? await berthCli(stack, project, compare)
                : await berthLibrary(stack, project);
        const label = i < 0 ? "warm-up" : `round ${i + 1}/${ROUNDS}`;
        if (i >= 0) results[side].push(timing);
        process.stdout.write(
          `${label} ${side}: up ${(timing.upMs / 1000).toFixed(2)}s, down ${(timing.downMs / 1000).toFixed(2)}s\n`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const left = await leftovers(engine, marker, projects);
  const summary = (side: keyof typeof results) => {
    const t = results[side];
    const upMs = median(t.map((x) => x.upMs));
    const downMs = median(t.map((x) => x.downMs));
    const totalMs = median(t.map((x) => x.upMs + x.downMs));
    return { upMs: round(upMs, 0), downMs: round(downMs, 0), totalMs: round(totalMs, 0) };
  };
  const berth = summary("berth");
  const peakOf = (side: keyof typeof results) =>
    round(median(results[side].flatMap((t) => (t.upPeakRssMb === undefined ? [] : [t.upPeakRssMb]))), 1);
  const upPeakRssMb = peakOf("berth");
  const library = summary("library");
  const composeSummary = summary("compose");
  const ratio = round(berth.totalMs / composeSummary.totalMs, 3);
  printTable(
    `${stack.name}, up until healthy + down, median of ${ROUNDS} rounds (ms)`,
    ["tool", "up", "down", "up+down", "vs compose"],
    [
      ["berth CLI", berth.upMs, berth.downMs, berth.totalMs, ratio.toFixed(2)],
      [
        "berth library",
        library.upMs,
        library.downMs,
        library.totalMs,
        (library.totalMs / composeSummary.totalMs).toFixed(2),
      ],
      ...(compare
        ? [
            [
              `berth CLI of ${compare}`,
              summary("compare").upMs,
              summary("compare").downMs,
              summary("compare").totalMs,
              (summary("compare").totalMs / composeSummary.totalMs).toFixed(2),
            ],
          ]
        : []),
      [
        `docker-compose ${version}`,
        composeSummary.upMs,
        composeSummary.downMs,
        composeSummary.totalMs,
        "1.00",
      ],
    ],
  );
  process.stdout.write(`leftover resources after the run: ${left}\n`);
  process.stdout.write(`berth up peak resident memory: ${upPeakRssMb} MB (median)\n`);
  if (compare) process.stdout.write(`berth up peak resident memory of ${compare}: ${peakOf("compare")} MB\n`);
  printJson(
    "stack",
    { ...(await benchEnv(engine)), dockerCompose: version, rounds: ROUNDS, stack: which },
    {
      berthCli: { ...berth, upPeakRssMb },
      berthLibrary: library,
      ...(compare
        ? {
            compareCli: {
              bin: compare,
              ...summary("compare"),
              upPeakRssMb: peakOf("compare"),
              vsCompose: round(summary("compare").totalMs / composeSummary.totalMs, 3),
            },
          }
        : {}),
      dockerCompose: composeSummary,
      leftovers: left,
      rounds: results,
    },
    {
      berth_vs_compose: { value: ratio, goal: "<= 0.6" },
      berth_library_vs_compose: { value: round(library.totalMs / composeSummary.totalMs, 3), goal: "<= 0.5" },
      berth_up_peak_rss_mb: { value: upPeakRssMb, goal: "<= 60" },
    },
  );
}

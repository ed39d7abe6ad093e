// bench/single: one service (the busybox fixture's httpd, one port published on 127.0.0.1, an HTTP
// readiness check) brought up until ready and taken down again, through the berth library and
// through testcontainers-node 11 (a dev dependency used only here), same image and command,
// alternating which goes first. Ryuk cannot be pulled here, so testcontainers runs with
// TESTCONTAINERS_RYUK_DISABLED=true; its stop is its default (`timeout: 0`, a SIGKILL, then
// remove). berth's down stays what it always is: the container's stop signal, its grace period,
// a wait until it stopped, a removal without force and a check that it is gone; the benchmark
// counts the rounds where that held (the container exited 0 on SIGTERM and was verified gone).
import { createRequire } from "node:module";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { guardOf } from "../src/guard/guard.js";
import { defineProject } from "../src/stack/builder.js";
import { defaultEngine } from "../src/stack/default-engine.js";
import type { DownReport } from "../src/stack/down.js";
import { up } from "../src/stack/up.js";
import { benchEnv, median, printJson, printTable, round } from "./support.js";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
const { GenericContainer, Wait } = await import("testcontainers");

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MARKER = `single-${process.pid}`;
const COMMAND = [
  "sh",
  "-c",
  "mkdir -p /www && echo ok > /www/health && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait",
];

interface Timing {
  upMs: number;
  downMs: number;
}

/** testcontainers publishes on every interface; the machine's rule is 127.0.0.1 only. */
class LoopbackContainer extends GenericContainer {
  onLoopback(): this {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
      for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = "127.0.0.1";
    }
    return this;
  }
}

async function testcontainers(image: string): Promise<Timing> {
  const began = performance.now();
  const container = await new LoopbackContainer(image)
    .withCommand(COMMAND)
    .withExposedPorts(8080)
    .onLoopback()
    .withLabels({ "berth.bench": MARKER })
    .withWaitStrategy(Wait.forHttp("/health", 8080))
    .start();
  const upMs = performance.now() - began;
  const stopBegan = performance.now();
  await container.stop();
  return { upMs, downMs: performance.now() - stopBegan };
}

/**
 * Graceful: stopped by its own stop signal (exit 0, not killed after the grace), removed without
 * force. Verified: `down` resolved, so its final listing found nothing of the session left.
 */
function gracefulAndVerified(report: DownReport): boolean {
  return (
    report.containers.length === 1 &&
    report.containers.every(
      (c) => c.outcome === "exited" && c.exitCode === 0 && c.steps.some((s) => s.step === "remove"),
    )
  );
}

async function berth(image: string, graceful: boolean[]): Promise<Timing> {
  const spec = defineProject({
    name: "bench-single",
    services: {
      web: {
        image,
        command: COMMAND,
        ports: [{ target: 8080, hostIp: "127.0.0.1", protocol: "tcp" }],
        labels: { "berth.bench": MARKER },
        wait: [{ kind: "http", port: 8080, path: "/health" }],
      },
    },
  });
  const began = performance.now();
  const env = await up({ spec, watch: true });
  const upMs = performance.now() - began;
  const downBegan = performance.now();
  const report = await env.down();
  const downMs = performance.now() - downBegan;
  graceful.push(gracefulAndVerified(report.report));
  return { upMs, downMs };
}

function summary(timings: Timing[]) {
  return {
    upMs: round(median(timings.map((t) => t.upMs)), 1),
    downMs: round(median(timings.map((t) => t.downMs)), 1),
    totalMs: round(median(timings.map((t) => t.upMs + t.downMs)), 1),
  };
}

export default async function main(): Promise<void> {
  const engine = defaultEngine();
  const image = (await ensureBusyboxFixture(engine)).ref;
  const tcVersion = (createRequire(import.meta.url)("testcontainers/package.json") as { version: string })
    .version;
  const results: Record<"berth" | "testcontainers", Timing[]> = { berth: [], testcontainers: [] };
  const graceful: boolean[] = [];
  // One untimed round each: client discovery, first connections, the image's first use.
  await berth(image, []);
  await testcontainers(image);
  const callsBefore = guardOf(engine)?.metrics.snapshot().calls;
  for (let i = 0; i < ROUNDS; i++) {
    const order =
      i % 2 === 0 ? (["berth", "testcontainers"] as const) : (["testcontainers", "berth"] as const);
    for (const side of order) {
      const timing = side === "berth" ? await berth(image, graceful) : await testcontainers(image);
      results[side].push(timing);
      process.stdout.write(
        `round ${i + 1}/${ROUNDS} ${side}: up ${timing.upMs.toFixed(0)} ms, down ${timing.downMs.toFixed(0)} ms\n`,
      );
    }
  }
  const callsAfter = guardOf(engine)?.metrics.snapshot().calls;
  const left = await engine.listContainers({ all: true, filters: { label: [`berth.bench=${MARKER}`] } });
  const b = summary(results.berth);
  const t = summary(results.testcontainers);
  const ratio = (x: number, y: number) => round(x / y, 3);
  printTable(
    `one service (busybox httpd, HTTP readiness), median of ${ROUNDS} rounds (ms)`,
    ["tool", "up until ready", "down", "up+down"],
    [
      ["berth library", b.upMs, b.downMs, b.totalMs],
      [`testcontainers ${tcVersion} (Ryuk off)`, t.upMs, t.downMs, t.totalMs],
      ["ratio", ratio(b.upMs, t.upMs), ratio(b.downMs, t.downMs), ratio(b.totalMs, t.totalMs)],
    ],
  );
  const apiCalls =
    callsBefore && callsAfter
      ? round((callsAfter.lifecycle + callsAfter.read - callsBefore.lifecycle - callsBefore.read) / ROUNDS, 1)
      : undefined;
  process.stdout.write(
    `berth API calls per up+down (lifecycle + read): ${apiCalls}; graceful verified downs: ${graceful.filter(Boolean).length}/${ROUNDS}; leftovers: ${left.length}\n`,
  );
  printJson(
    "single",
    { ...(await benchEnv(engine)), testcontainers: tcVersion, ryuk: "disabled", rounds: ROUNDS },
    {
      berthLibrary: b,
      testcontainers: t,
      berthApiCallsPerRound: apiCalls,
      gracefulVerifiedDowns: graceful.filter(Boolean).length,
      leftovers: left.length,
      rounds: results,
    },
    {
      up_vs_testcontainers: { value: ratio(b.upMs, t.upMs), goal: "<= 0.8" },
      total_vs_testcontainers: { value: ratio(b.totalMs, t.totalMs), goal: "<= 1.0" },
      graceful_verified_downs: { value: graceful.filter(Boolean).length, goal: `== ${ROUNDS}` },
      leftovers: { value: left.length, goal: "== 0" },
    },
  );
}

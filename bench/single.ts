// bench/single: one service (the busybox fixture's httpd, one port published on 127.0.0.1, an HTTP
// readiness check) brought up until ready and taken down again, through the berth library and
// through testcontainers-node 11 (a dev dependency used only here), same image and command,
// alternating which goes first. Ryuk cannot be pulled here, so testcontainers runs with
// TESTCONTAINERS_RYUK_DISABLED=true; its stop is its default (`timeout: 0`, a SIGKILL, then
// remove). berth's down stays what it always is: the container's stop signal, its grace period,
// a wait until it stopped, a removal without force and a check that it is gone; the benchmark
// counts the rounds where that held (the container exited 0 on SIGTERM and was verified gone).
// berth runs twice per round: as configured by default (a network created and removed per
// environment) and with the network pool on (`networkPool: true`: the network is claimed from
// and returned to a pool of pre-created ones, verified empty); the bench's pool is drained at the end.
// A third berth side takes a reused (warm) environment: `up({ reuse: true })` of the idle one an
// untimed round left, and a `down` that gives it back; it is removed at the end. A fourth puts the
// service on Docker's default bridge (`network_mode: bridge`, a user's opt-in that gives up the
// environment's own network, where testcontainers puts its container): no network of its own.
// The floor runs in the same rounds: raw Engine API calls straight over the socket (create, start,
// one inspect for the published port, then berth's own HTTP readiness check, same backoff; down a
// stop with the default grace and a remove), once on the default bridge (the floor of
// `network_mode: bridge`), once on a user-defined bridge network created before the rounds (the
// pool's floor) and once on a network created first in the up and removed last in the down (the
// floor of berth's default). No tool can bring this container up faster than the daemon does
// these calls: the ratios to testcontainers say where the floor is, and each berth side's ratio
// to its own floor (goal <= 1.10) says what berth adds.
import { createRequire } from "node:module";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { defaultEngine } from "../src/guard/default-engine.js";
import { guardOf } from "../src/guard/guard.js";
import { drainPool, networkPoolConfig } from "../src/janitor/network-pool.js";
import { httpWait } from "../src/lifecycle/wait/http.js";
import { up } from "../src/stack/up.js";
import {
  COMMAND,
  gracefulAndVerified,
  singleSpec,
  startTestcontainer,
  type Timing,
} from "./lib/single-service.js";
import {
  benchEnv,
  benchLeftovers,
  labelRun,
  median,
  printJson,
  printTable,
  ratio,
  raw,
  round,
} from "./support.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MARKER = `single-${process.pid}`;
// The bench's pooled networks carry its marker (a pool of its own), drained at the end.
labelRun("berth.bench", MARKER);

async function testcontainers(image: string): Promise<Timing> {
  const began = performance.now();
  const container = await startTestcontainer(image, MARKER);
  const upMs = performance.now() - began;
  const stopBegan = performance.now();
  await container.stop();
  return { upMs, downMs: performance.now() - stopBegan };
}

async function berth(
  image: string,
  graceful: boolean[],
  networkPool = false,
  networkMode?: string,
): Promise<Timing> {
  const began = performance.now();
  const env = await up({ spec: singleSpec(image, MARKER, networkMode), watch: true, networkPool });
  const upMs = performance.now() - began;
  const downBegan = performance.now();
  const report = await env.down();
  const downMs = performance.now() - downBegan;
  graceful.push(gracefulAndVerified(report.report));
  return { upMs, downMs };
}

/**
 * A warm environment (docs/environments.md#reuse-warm-environments-across-runs): `up` takes the
 * idle environment the untimed round left, resets it and checks it ready; `down` gives it back
 * (its lease released, the container left running for the next round). Not a cold start: the
 * figure says what a suite that opts into reuse waits for, beside the cold ones.
 */
async function berthReused(image: string): Promise<Timing> {
  const began = performance.now();
  const env = await up({ spec: singleSpec(image, MARKER), watch: true, reuse: true });
  const upMs = performance.now() - began;
  if (!env.reused) throw new Error("the reused round found no idle environment to take");
  const downBegan = performance.now();
  await env.down();
  return { upMs, downMs: performance.now() - downBegan };
}

/** The floor: raw calls on the socket, then the same HTTP readiness check berth runs. */
async function rawFloor(
  socketPath: string,
  image: string,
  name: string,
  network?: { name: string; perRound: boolean },
): Promise<Timing> {
  const call = async (method: string, path: string, expected: number, body?: unknown) => {
    const res = await raw(socketPath, method, path, body);
    if (res.status !== expected) throw new Error(`raw ${method} ${path}: ${res.status} ${res.body}`);
    return res.body;
  };
  const began = performance.now();
  // The floor of berth's default: the environment's network made on the way up and removed on
  // the way down, in the timed part, as berth does it.
  if (network?.perRound)
    await call("POST", "/networks/create", 201, { Name: network.name, Labels: { "berth.bench": MARKER } });
  const created = await call("POST", `/containers/create?name=${name}`, 201, {
    Image: image,
    Cmd: COMMAND,
    Labels: { "berth.bench": MARKER },
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: {
      PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
      ...(network ? { NetworkMode: network.name } : {}),
    },
  });
  const id = (JSON.parse(created) as { Id: string }).Id;
  await call("POST", `/containers/${id}/start`, 204);
  const inspect = JSON.parse(await call("GET", `/containers/${id}/json`, 200)) as {
    NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> };
  };
  const port = Number(inspect.NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort);
  const target = {
    engine: defaultEngine(),
    service: "web",
    containerId: id,
    hostAddress: () => ({ host: "127.0.0.1", port }),
  };
  await httpWait(8080, "/health").wait(target, AbortSignal.timeout(60_000));
  const upMs = performance.now() - began;
  const downBegan = performance.now();
  await call("POST", `/containers/${id}/stop?t=10`, 204);
  await call("DELETE", `/containers/${id}`, 204);
  if (network?.perRound) await call("DELETE", `/networks/${network.name}`, 204);
  return { upMs, downMs: performance.now() - downBegan };
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
  if (engine.endpoint.kind !== "unix") throw new Error("bench/single measures its floor on a unix socket");
  const socketPath = engine.endpoint.socketPath;
  const floorNetwork = `berth-bench-floor-${process.pid}`;
  await engine.createNetwork({ Name: floorNetwork, Labels: { "berth.bench": MARKER } });
  let floorRuns = 0;
  /** The raw calls on the default bridge, on the network made before the rounds, or on one of their own. */
  const floor = (placement: "bridge" | "shared network" | "network per round") => {
    const name = `berth-bench-floor-${process.pid}-${floorRuns++}`;
    if (placement === "bridge") return rawFloor(socketPath, image, name);
    const perRound = placement === "network per round";
    return rawFloor(socketPath, image, name, { name: perRound ? `${name}-net` : floorNetwork, perRound });
  };
  type Side =
    | "berth"
    | "berthPool"
    | "berthReused"
    | "berthBridge"
    | "testcontainers"
    | "rawBridge"
    | "rawNetwork"
    | "rawNetworkPerRound";
  const results: Record<Side, Timing[]> = {
    berth: [],
    berthPool: [],
    berthReused: [],
    berthBridge: [],
    testcontainers: [],
    rawBridge: [],
    rawNetwork: [],
    rawNetworkPerRound: [],
  };
  const graceful: boolean[] = [];
  const gracefulPool: boolean[] = [];
  const gracefulBridge: boolean[] = [];
  const calls: Record<"berth" | "berthPool", number> = { berth: 0, berthPool: 0 };
  const callCount = () => {
    const c = guardOf(engine)?.metrics.snapshot().calls;
    return c ? c.lifecycle + c.read : 0;
  };
  // One untimed round each: client discovery, first connections, the image's first use (and the
  // pool's first network).
  await berth(image, []);
  await berth(image, [], true);
  await berth(image, [], false, "bridge");
  // The reusable environment the warm rounds take and give back (created here, cold).
  await (await up({ spec: singleSpec(image, MARKER), watch: true, reuse: true })).down();
  await testcontainers(image);
  await floor("bridge");
  await floor("shared network");
  await floor("network per round");
  const sides: Side[] = [
    "berth",
    "berthPool",
    "berthReused",
    "berthBridge",
    "testcontainers",
    "rawBridge",
    "rawNetwork",
    "rawNetworkPerRound",
  ];
  const runSide: Record<Side, () => Promise<Timing>> = {
    berth: () => berth(image, graceful),
    berthPool: () => berth(image, gracefulPool, true),
    berthReused: () => berthReused(image),
    berthBridge: () => berth(image, gracefulBridge, false, "bridge"),
    testcontainers: () => testcontainers(image),
    rawBridge: () => floor("bridge"),
    rawNetwork: () => floor("shared network"),
    rawNetworkPerRound: () => floor("network per round"),
  };
  for (let i = 0; i < ROUNDS; i++) {
    // Each contender goes first, second, ... in turn.
    const order = sides.map((_, k) => sides[(k + i) % sides.length]!);
    for (const side of order) {
      const before = callCount();
      const timing = await runSide[side]();
      if (side === "berth" || side === "berthPool") calls[side] += callCount() - before;
      results[side].push(timing);
      process.stdout.write(
        `round ${i + 1}/${ROUNDS} ${side}: up ${timing.upMs.toFixed(0)} ms, down ${timing.downMs.toFixed(0)} ms\n`,
      );
    }
  }
  await (await up({ spec: singleSpec(image, MARKER), watch: true, reuse: true })).down({ remove: true });
  const drained = await drainPool(engine, networkPoolConfig(process.env, true), {
    label: { key: "berth.bench", value: MARKER },
  });
  await engine.removeNetwork(floorNetwork);
  const left = await benchLeftovers(engine, MARKER);
  const b = summary(results.berth);
  const p = summary(results.berthPool);
  const r = summary(results.berthReused);
  const d = summary(results.berthBridge);
  const t = summary(results.testcontainers);
  const fb = summary(results.rawBridge);
  const fn = summary(results.rawNetwork);
  const fr = summary(results.rawNetworkPerRound);
  type Summary = ReturnType<typeof summary>;
  const row = (label: string, x: Summary) => [label, x.upMs, x.downMs, x.totalMs];
  /** Each figure of `x` over the same figure of `y`. */
  const ratioRow = (label: string, x: Summary, y: Summary) => [
    label,
    ratio(x.upMs, y.upMs),
    ratio(x.downMs, y.downMs),
    ratio(x.totalMs, y.totalMs),
  ];
  /** `PREFIXup_vs_BASELINE` and `PREFIXtotal_vs_BASELINE`: a side's up and up+down over a baseline's. */
  const ratioTargets = (
    rows: [prefix: string, baseline: string, x: Summary, y: Summary, upGoal: string, totalGoal: string][],
  ): Record<string, { value: number; goal: string }> =>
    Object.fromEntries(
      rows.flatMap(([prefix, baseline, x, y, upGoal, totalGoal]) => [
        [`${prefix}up_vs_${baseline}`, { value: ratio(x.upMs, y.upMs), goal: upGoal }],
        [`${prefix}total_vs_${baseline}`, { value: ratio(x.totalMs, y.totalMs), goal: totalGoal }],
      ]),
    );
  printTable(
    `one service (busybox httpd, HTTP readiness), median of ${ROUNDS} rounds (ms)`,
    ["tool", "up until ready", "down", "up+down"],
    [
      row("berth library", b),
      row("berth library, network pool", p),
      row("berth library, reused environment (warm)", r),
      row("berth library, network_mode: bridge", d),
      row(`testcontainers ${tcVersion} (Ryuk off)`, t),
      ratioRow("ratio", b, t),
      ratioRow("ratio, network pool", p, t),
      ratioRow("ratio, reused (warm)", r, t),
      ratioRow("ratio, network_mode: bridge", d, t),
      row("floor: raw API, default bridge", fb),
      row("floor: raw API, user-defined network", fn),
      row("floor: raw API, a network made and removed per round", fr),
      ratioRow("floor ratio, default bridge", fb, t),
      ratioRow("floor ratio, user-defined network", fn, t),
      ratioRow("floor ratio, network per round", fr, t),
      ratioRow("berth vs its floor (network per round)", b, fr),
      ratioRow("berth bridge vs its floor (default bridge)", d, fb),
      ratioRow("berth pool vs its floor (network)", p, fn),
    ],
  );
  const apiCalls = round(calls.berth / ROUNDS, 1);
  const apiCallsPool = round(calls.berthPool / ROUNDS, 1);
  const gracefulCount = [...graceful, ...gracefulPool, ...gracefulBridge].filter(Boolean).length;
  process.stdout.write(
    `berth API calls per up+down (lifecycle + read): ${apiCalls}, with the pool ${apiCallsPool}; graceful verified downs: ${gracefulCount}/${3 * ROUNDS}; pooled networks drained: ${drained.length}; leftovers: ${left.length}\n`,
  );
  printJson(
    "single",
    { ...(await benchEnv(engine)), testcontainers: tcVersion, ryuk: "disabled", rounds: ROUNDS },
    {
      berthLibrary: b,
      berthLibraryNetworkPool: p,
      berthLibraryReused: r,
      berthLibraryDefaultBridge: d,
      defaultBridgeVsTestcontainers: { up: ratio(d.upMs, t.upMs), total: ratio(d.totalMs, t.totalMs) },
      testcontainers: t,
      floorRawBridge: fb,
      floorRawNetwork: fn,
      floorRawNetworkPerRound: fr,
      floorUpVsTestcontainers: {
        bridge: ratio(fb.upMs, t.upMs),
        network: ratio(fn.upMs, t.upMs),
        networkPerRound: ratio(fr.upMs, t.upMs),
      },
      floorTotalVsTestcontainers: {
        bridge: ratio(fb.totalMs, t.totalMs),
        network: ratio(fn.totalMs, t.totalMs),
        networkPerRound: ratio(fr.totalMs, t.totalMs),
      },
      poolUpVsFloorNetwork: ratio(p.upMs, fn.upMs),
      berthUpVsFloorNetwork: ratio(b.upMs, fn.upMs),
      berthApiCallsPerRound: apiCalls,
      berthPoolApiCallsPerRound: apiCallsPool,
      gracefulVerifiedDowns: gracefulCount,
      leftovers: left.length,
      rounds: results,
    },
    {
      // The goals against testcontainers, then what berth adds over the raw calls of the
      // same path (the daemon's own time): berth's goal where the ratios to testcontainers sit
      // below the floor (docs/performance.md#the-floor-of-one-cold-start).
      ...ratioTargets([
        ["", "testcontainers", b, t, "<= 0.8", "<= 1.0"],
        ["pool_", "testcontainers", p, t, "<= 0.8", "<= 1.0"],
        ["reused_", "testcontainers", r, t, "<= 0.8", "<= 1.0"],
        ["", "own_floor", b, fr, "<= 1.10", "<= 1.10"],
        ["pool_", "own_floor", p, fn, "<= 1.10", "<= 1.10"],
        ["bridge_", "own_floor", d, fb, "<= 1.10", "<= 1.10"],
      ]),
      graceful_verified_downs: { value: gracefulCount, goal: `== ${3 * ROUNDS}` },
      leftovers: { value: left.length, goal: "== 0" },
    },
  );
}

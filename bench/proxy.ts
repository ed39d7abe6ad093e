// `npm run bench -- proxy [--rounds 300] [--storms 2] [--network bridge|none] [--populate 30]
// [--v8-flags berth|default|"FLAGS"]`: what the guard proxy costs and what it buys, direct versus
// through the proxy in the same run. The proxy runs with `berth proxy`'s V8 flags unless told.
//  1. Latency: GET /_ping, GET /containers/json and inspect, alternating direct calls, calls
//     through berth's proxy and calls through HAProxy (Debian's `haproxy`, the engine of the
//     best-known Docker socket proxy, relaying the same socket in HTTP mode with its own config in
//     a temp dir) on one keep-alive connection each; then the list again with `--populate` more
//     containers on the daemon. Targets: berth adds <= 0.2 ms at p50; containers/json ratio
//     <= 1.10. The proxy runs from dist/ in its own process, as `berth proxy` does; its resident
//     memory is read when started and after the latency phase, idle (target <= 60 MB).
//  2. Storm: 48 create-start-stop-remove lifecycles of a SIGTERM-handling fixture container from
//     8 processes (4 callers each): directly (no limiter), through the proxy (adaptive limiter),
//     and through a second proxy with the limiter off (a control: the proxy's own cost).
//     Daemon-side latency: measured by the clients when direct, by the proxy (dispatch to answer,
//     never time queued) when proxied. Targets: throughput >= 0.9x direct, p95 <= 0.5x direct.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { safeRemove } from "../src/lifecycle/safe-remove.js";
import {
  benchEnv,
  benchLabels,
  ensureFreshBuild,
  median,
  option,
  percentile,
  printJson,
  printTable,
  ROOT,
  round,
  rssMb,
} from "./support.js";

const DAEMON = "/var/run/docker.sock";
const PROCESSES = 8;
const CALLERS_PER_PROCESS = 4;
const LIFECYCLES = 48;

// --- the proxy, in its own process as users run it -------------------------------------------

interface ProxyProcess {
  socketPath: string;
  pid: number;
  /** Daemon-side latencies (ms) of the non-stream requests it relayed since the last take(). */
  take(): Promise<number[]>;
  metrics(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

// The daemon-side latencies stay in the proxy's process until the bench asks for them ("TAKE" on
// stdin): a line on stdout per request would wake the bench, the proxy's client, on every answer
// and cost the proxy a pipe write, and `berth proxy` writes no line per request by default.
// The V8 flags come first, before the proxy's code loads, as bin/berth.js sets them for `berth proxy`.
const PROXY_SCRIPT = `
import { createInterface } from "node:readline";
import { setFlagsFromString } from "node:v8";
if (process.argv[3]) setFlagsFromString(process.argv[3]);
const { startProxy } = await import(process.argv[1]);
let samples = [];
const proxy = await startProxy({
  listen: "unix://" + process.argv[2],
  upstream: "unix://${DAEMON}",
  log: (e) => { if (e.class !== "stream" && e.latencyMs !== undefined) samples.push(e.latencyMs); },
});
createInterface({ input: process.stdin }).on("line", () => {
  process.stdout.write("S " + JSON.stringify(samples) + "\\n");
  samples = [];
});
process.stdout.write("READY " + proxy.dockerHost + "\\n");
process.on("SIGTERM", () => proxy.close().then(() => process.exit(0)));
`;

/** The V8 flags `berth proxy` runs with: bin/berth.js's PROXY_V8_FLAGS. */
function berthProxyV8Flags(): string {
  const line = /^const PROXY_V8_FLAGS = "([^"]*)";$/m.exec(
    readFileSync(join(ROOT, "bin", "berth.js"), "utf8"),
  );
  if (!line)
    throw new Error('bin/berth.js: no `const PROXY_V8_FLAGS = "...";` line for the proxy\'s V8 flags');
  return line[1]!;
}

async function startProxyProcess(
  v8Flags: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProxyProcess> {
  const socketPath = `/tmp/berth-bench-proxy-${process.pid}-${randomUUID().slice(0, 6)}.sock`;
  const server = join(ROOT, "dist", "proxy", "server.js");
  const child: ChildProcess = spawn(
    process.execPath,
    ["--input-type=module", "-e", PROXY_SCRIPT, server, socketPath, v8Flags],
    { stdio: ["pipe", "pipe", "inherit"], env },
  );
  const taken: ((samples: number[]) => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the proxy exited with ${code} before it was ready`)));
    lines.on("line", (line) => {
      if (line.startsWith("S ")) taken.shift()?.(JSON.parse(line.slice(2)));
      else if (line.startsWith("READY")) resolve();
    });
  });
  return {
    socketPath,
    pid: child.pid!,
    take: () =>
      new Promise((resolve) => {
        taken.push(resolve);
        child.stdin!.write("TAKE\n");
      }),
    metrics: async () => JSON.parse((await call(new Agent(), socketPath, "GET", "/_berth/metrics")).body),
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// --- HAProxy beside it ------------------------------------------------------------------------

interface Haproxy {
  socketPath: string;
  version: string;
  stop(): Promise<void>;
}

/** HAProxy in HTTP mode with keep-alive both ways, as docker-socket-proxy runs it. */
async function startHaproxy(): Promise<Haproxy> {
  let version: string;
  try {
    version = /version (\S+)/.exec(execFileSync("haproxy", ["-v"], { encoding: "utf8" }))?.[1] ?? "?";
  } catch {
    throw new Error(
      "the proxy bench needs HAProxy beside berth: install it (Debian: apt-get install haproxy)",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-haproxy-"));
  const socketPath = join(dir, "haproxy.sock");
  writeFileSync(
    join(dir, "haproxy.cfg"),
    [
      "global",
      "  maxconn 1024",
      "defaults",
      "  mode http",
      "  timeout connect 5s",
      "  timeout client 1h",
      "  timeout server 1h",
      "frontend docker",
      `  bind unix@${socketPath} mode 600`,
      "  default_backend daemon",
      "backend daemon",
      `  server docker ${DAEMON}`,
      "",
    ].join("\n"),
  );
  const child = spawn("haproxy", ["-f", join(dir, "haproxy.cfg"), "-db"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for (let i = 0; !(existsSync(socketPath) && statSync(socketPath).isSocket()); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error("HAProxy did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socketPath,
    version,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- raw calls -------------------------------------------------------------------------------

function call(
  agent: Agent,
  socketPath: string,
  method: string,
  path: string,
): Promise<{ status: number; body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ socketPath, agent, method, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
    });
    req.on("error", reject);
    req.end();
  });
}

interface LatencyRow {
  endpoint: string;
  directP50: number;
  proxyP50: number;
  haproxyP50: number;
  directP90: number;
  proxyP90: number;
  haproxyP90: number;
  addedP50: number;
  haproxyAddedP50: number;
  ratio: number;
}

async function latency(
  proxySocket: string,
  haproxySocket: string,
  inspectId: string,
  rounds: number,
  populated: number,
): Promise<LatencyRow[]> {
  const endpoints: [string, string][] = [
    ["GET /_ping", "/_ping"],
    ["GET /containers/json", "/v1.41/containers/json"],
    ["GET /containers/{id}/json", `/v1.41/containers/${inspectId}/json`],
    // The same list with more on the daemon: the proxy's cost is per request, not per byte.
    [`GET /containers/json?all=1 (+${populated} containers)`, "/v1.41/containers/json?all=1"],
  ];
  const via = {
    d: { agent: new Agent({ keepAlive: true, maxSockets: 1 }), socket: DAEMON },
    p: { agent: new Agent({ keepAlive: true, maxSockets: 1 }), socket: proxySocket },
    h: { agent: new Agent({ keepAlive: true, maxSockets: 1 }), socket: haproxySocket },
  };
  const rows: LatencyRow[] = [];
  for (const [label, path] of endpoints) {
    const times: Record<keyof typeof via, number[]> = { d: [], p: [], h: [] };
    for (let i = 0; i < rounds + 20; i++) {
      // Alternate the order so drift in the daemon's speed falls on all alike.
      const order = (i % 2 === 0 ? ["d", "p", "h"] : ["h", "p", "d"]) as (keyof typeof via)[];
      for (const who of order) {
        const r = await call(via[who].agent, via[who].socket, "GET", path);
        if (r.status !== 200) throw new Error(`${label} answered ${r.status}: ${r.body}`);
        // The first 20 rounds warm connections and caches up.
        if (i >= 20) times[who].push(r.ms);
      }
    }
    const directP50 = median(times.d);
    const proxyP50 = median(times.p);
    const haproxyP50 = median(times.h);
    rows.push({
      endpoint: label,
      directP50,
      proxyP50,
      haproxyP50,
      directP90: percentile(times.d, 90),
      proxyP90: percentile(times.p, 90),
      haproxyP90: percentile(times.h, 90),
      addedP50: proxyP50 - directP50,
      haproxyAddedP50: haproxyP50 - directP50,
      ratio: proxyP50 / directP50,
    });
  }
  for (const v of Object.values(via)) v.agent.destroy();
  return rows;
}

// --- the storm from 8 processes --------------------------------------------------------------

/** One client process: waits for "go" on stdin, runs its lifecycles with N callers, reports. */
const WORKER = `
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";
const [socketPath, image, labelsJson, prefix, count, callers, network] = process.argv.slice(1);
const agent = new Agent({ keepAlive: true });
const latencies = [];
const call = (method, path, body) => new Promise((resolve, reject) => {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const t0 = performance.now();
  const req = request({ socketPath, agent, method, path, headers: payload
    ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {} }, (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c) => { text += c; });
    res.on("end", () => { latencies.push(performance.now() - t0); resolve({ status: res.statusCode, text }); });
  });
  req.on("error", reject);
  req.end(payload);
});
const must = (step, r, ok) => { if (!ok.includes(r.status)) throw new Error(step + ": " + r.status + " " + r.text); };
async function lifecycle(name) {
  const created = await call("POST", "/v1.41/containers/create?name=" + name, {
    Image: image, Labels: JSON.parse(labelsJson), StopTimeout: 10, HostConfig: { NetworkMode: network, Init: true },
    Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
  });
  must("create", created, [201]);
  const id = JSON.parse(created.text).Id;
  must("start", await call("POST", "/v1.41/containers/" + id + "/start"), [204]);
  must("stop", await call("POST", "/v1.41/containers/" + id + "/stop?t=10"), [204, 304]);
  must("remove", await call("DELETE", "/v1.41/containers/" + id + "?v=1"), [204]);
}
process.stdout.write("READY\\n");
await new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));
const startedAt = performance.timeOrigin + performance.now();
let next = 0;
const failures = [];
await Promise.all(Array.from({ length: Number(callers) }, async () => {
  while (next < Number(count)) {
    const name = prefix + "-" + next++;
    try { await lifecycle(name); } catch (error) { failures.push(name + ": " + error.message); }
  }
}));
const endedAt = performance.timeOrigin + performance.now();
process.stdout.write(JSON.stringify({ startedAt, endedAt, failures, latencies }) + "\\n");
agent.destroy();
process.exit(0);
`;

type Via = "direct" | "proxy" | "proxy-off";

interface StormResult {
  via: Via;
  wallS: number;
  perSec: number;
  p50Ms: number;
  p95Ms: number;
  failures: string[];
}

async function storm(
  via: Via,
  socketPath: string,
  image: string,
  labels: Record<string, string>,
  prefix: string,
  network: string,
  daemonSide: () => Promise<number[]>,
): Promise<StormResult> {
  const perProcess = LIFECYCLES / PROCESSES;
  const workers = Array.from({ length: PROCESSES }, (_, p) => {
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        WORKER,
        socketPath,
        image,
        JSON.stringify(labels),
        `${prefix}-p${p}`,
        String(perProcess),
        String(CALLERS_PER_PROCESS),
        network,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<void>((resolve) => lines.once("line", () => resolve()));
    const report = new Promise<{
      startedAt: number;
      endedAt: number;
      failures: string[];
      latencies: number[];
    }>((resolve) => lines.on("line", (line) => line.startsWith("{") && resolve(JSON.parse(line))));
    return { child, ready, report };
  });
  await Promise.all(workers.map((w) => w.ready));
  await daemonSide();
  for (const w of workers) w.child.stdin!.end("go\n");
  const reports = await Promise.all(workers.map((w) => w.report));
  const wallS =
    (Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt))) / 1000;
  const latencies = via === "direct" ? reports.flatMap((r) => r.latencies) : await daemonSide();
  return {
    via,
    wallS,
    perSec: LIFECYCLES / wallS,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    failures: reports.flatMap((r) => r.failures),
  };
}

async function sweep(engine: Engine, runLabel: string): Promise<number> {
  const left = await engine.listContainers({ all: true, filters: { label: [runLabel] } });
  await Promise.all(left.map((c) => safeRemove(engine, c.Id, { maxGraceSeconds: 2 })));
  return left.length;
}

export default async function proxyBench(args: string[] = []): Promise<void> {
  const rounds = Number(option(args, "rounds", "300"));
  const storms = Number(option(args, "storms", "2"));
  const network = option(args, "network", "bridge");
  const engine = new Engine({ dockerHost: `unix://${DAEMON}` });
  const env = await benchEnv(engine);
  const image = (await ensureBusyboxFixture(engine)).ref;
  const run = randomUUID().slice(0, 8);
  const runLabel = `berth.bench.run=${run}`;
  const labels = benchLabels("proxy", run);
  // `--v8-flags default`: V8's defaults instead of those `berth proxy` runs with.
  const v8Option = option(args, "v8-flags", "berth");
  const v8Flags = v8Option === "berth" ? berthProxyV8Flags() : v8Option === "default" ? "" : v8Option;
  await ensureFreshBuild();
  const proxy = await startProxyProcess(v8Flags);
  const haproxy = await startHaproxy();
  const memory: { startRssMb?: number; idleRssMb?: number } = {};
  // A control: the same proxy with the limiter off separates the proxy's cost from the limiter's effect.
  const proxyOff = await startProxyProcess(v8Flags, { ...process.env, BERTH_LIMITER: "off" });
  const results: StormResult[] = [];
  let rows: LatencyRow[] = [];
  let limiter: unknown;
  const populated = Number(option(args, "populate", "30"));
  try {
    const { id } = await engine.createContainer({
      name: `berth-bench-proxy-${run}-inspect`,
      Image: image,
      Cmd: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
      Labels: labels,
      HostConfig: { NetworkMode: "none" },
    });
    await engine.startContainer(id);
    for (let i = 0; i < populated; i++) {
      await engine.createContainer({
        name: `berth-bench-proxy-${run}-list-${i}`,
        Image: image,
        Cmd: ["true"],
        Labels: labels,
        HostConfig: { NetworkMode: "none" },
      });
    }
    process.stderr.write(`proxy bench: latency, ${rounds} alternating rounds per endpoint...\n`);
    // Settled after start-up: what a proxy nobody has used yet holds.
    await new Promise((r) => setTimeout(r, 1_000));
    memory.startRssMb = rssMb(proxy.pid);
    rows = await latency(proxy.socketPath, haproxy.socketPath, id, rounds, populated);
    // Idle after the latency phase: what the proxy keeps holding between bursts.
    await new Promise((r) => setTimeout(r, 2_000));
    memory.idleRssMb = rssMb(proxy.pid);
    await sweep(engine, runLabel);

    const order: Via[][] = [
      ["direct", "proxy", "proxy-off"],
      ["proxy-off", "proxy", "direct"],
    ];
    for (let i = 0; i < storms; i++) {
      for (const via of order[i % 2]!) {
        process.stderr.write(`proxy bench: storm ${i + 1}/${storms}, ${via}...\n`);
        const target = via === "proxy" ? proxy : via === "proxy-off" ? proxyOff : undefined;
        results.push(
          await storm(
            via,
            target?.socketPath ?? DAEMON,
            image,
            labels,
            `berth-bench-proxy-${run}-${via}-${i}`,
            network,
            target?.take ?? (async () => []),
          ),
        );
        // Let the daemon finish its own cleanup before the next storm is measured.
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    limiter = (await proxy.metrics()).limiter;
  } finally {
    await proxy.stop();
    await haproxy.stop();
    await proxyOff.stop();
    const left = await sweep(engine, runLabel);
    if (left > 0) process.stderr.write(`proxy bench: removed ${left} container(s) left behind\n`);
  }

  printTable(
    `proxy latency: medians over ${rounds} alternating rounds, one keep-alive connection each (ms)`,
    [
      "endpoint",
      "direct p50",
      "proxy p50",
      "added p50",
      "haproxy p50",
      "haproxy added",
      "ratio",
      "direct p90",
      "proxy p90",
      "haproxy p90",
    ],
    rows.map((r) => [
      r.endpoint,
      round(r.directP50, 3),
      round(r.proxyP50, 3),
      round(r.addedP50, 3),
      round(r.haproxyP50, 3),
      round(r.haproxyAddedP50, 3),
      round(r.ratio, 3),
      round(r.directP90, 3),
      round(r.proxyP90, 3),
      round(r.haproxyP90, 3),
    ]),
  );
  process.stdout.write(
    `proxy resident memory: ${memory.startRssMb ?? "?"} MB after start, ${memory.idleRssMb ?? "?"} MB idle after the latency phase (V8 flags: ${v8Flags || "defaults"})\n`,
  );
  printTable(
    `proxy storm: ${LIFECYCLES} lifecycles from ${PROCESSES} processes x ${CALLERS_PER_PROCESS} callers (daemon-side latency, ms)`,
    ["via", "wall s", "per s", "p50", "p95", "failures"],
    results.map((r) => [
      r.via,
      round(r.wallS, 2),
      round(r.perSec, 2),
      round(r.p50Ms, 1),
      round(r.p95Ms, 1),
      r.failures.length,
    ]),
  );
  for (const failure of results.flatMap((r) => r.failures).slice(0, 10))
    process.stderr.write(`  failure: ${failure}\n`);

  const of = (via: Via) => results.filter((r) => r.via === via);
  const throughput = (via: Via) => (of(via).length * LIFECYCLES) / of(via).reduce((s, r) => s + r.wallS, 0);
  const meanP95 = (via: Via) => of(via).reduce((s, r) => s + r.p95Ms, 0) / of(via).length;
  const row = (name: string) => rows.find((r) => r.endpoint === name)!;
  const figures = {
    latency: rows.map((r) => ({
      endpoint: r.endpoint,
      directP50Ms: round(r.directP50, 3),
      proxyP50Ms: round(r.proxyP50, 3),
      addedP50Ms: round(r.addedP50, 3),
      haproxyP50Ms: round(r.haproxyP50, 3),
      haproxyAddedP50Ms: round(r.haproxyAddedP50, 3),
      ratio: round(r.ratio, 3),
    })),
    haproxy: haproxy.version,
    proxyV8Flags: v8Flags,
    proxyStartRssMb: memory.startRssMb,
    proxyIdleRssMb: memory.idleRssMb,
    storms: results.map((r) => ({
      ...r,
      failures: r.failures.length,
      wallS: round(r.wallS, 2),
      perSec: round(r.perSec, 2),
      p50Ms: round(r.p50Ms, 1),
      p95Ms: round(r.p95Ms, 1),
    })),
    directPerSec: round(throughput("direct"), 2),
    proxyPerSec: round(throughput("proxy"), 2),
    proxyLimiterOffPerSec: round(throughput("proxy-off"), 2),
    directP95Ms: round(meanP95("direct"), 1),
    proxyP95Ms: round(meanP95("proxy"), 1),
    proxyLimiterOffP95Ms: round(meanP95("proxy-off"), 1),
    populatedContainers: populated,
    network,
    limiter,
  };
  printJson("proxy", env, figures, {
    pingAddedP50Ms: { value: round(row("GET /_ping").addedP50, 3), goal: "<= 0.2" },
    containersJsonAddedP50Ms: { value: round(row("GET /containers/json").addedP50, 3), goal: "<= 0.2" },
    inspectAddedP50Ms: { value: round(row("GET /containers/{id}/json").addedP50, 3), goal: "<= 0.2" },
    pingAddedVsHaproxy: {
      value: round(row("GET /_ping").addedP50 / row("GET /_ping").haproxyAddedP50, 2),
      goal: "report (HAProxy adds 0.12-0.14 ms here)",
    },
    proxyIdleRssMb: { value: memory.idleRssMb ?? Number.NaN, goal: "<= 60" },
    containersJsonRatio: { value: round(row("GET /containers/json").ratio, 3), goal: "<= 1.10" },
    stormThroughputVsDirect: { value: round(throughput("proxy") / throughput("direct"), 3), goal: ">= 0.9" },
    stormP95VsDirect: { value: round(meanP95("proxy") / meanP95("direct"), 3), goal: "<= 0.5" },
    failures: { value: results.reduce((n, r) => n + r.failures.length, 0), goal: "== 0" },
  });
}

// Docker over mutual TLS and over ssh, past the round trip of engine-endpoints.test.ts: contexts
// made with `docker context create` that point at the TLS relay and at the sshd; `berth proxy`
// listening on a local socket in front of each, serving the docker CLI, berth, and many raw
// clients at once; and the guarded engine on each. Both endpoints reach the daemon through a
// counting relay, which measures the lifecycle calls in flight where the daemon sees them: never
// more than the limiter (the proxy's, or the guard's) granted.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SshEndpoint, startSshEndpoint } from "../../src/fixtures/ssh-endpoint.js";
import { startTlsEndpoint, type TlsEndpoint } from "../../src/fixtures/tls-endpoint.js";
import { createEngine, guardOf } from "../../src/guard/guard.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { LABELS } from "../../src/model/labels.js";
import type { ProxyMetricsSnapshot } from "../../src/proxy/metrics.js";
import { type CountingRelay, startCountingRelay } from "./counting-relay.js";
import { berthWith } from "./engines-support.js";
import { docker, http, suiteLabelArgs } from "./proxy-support.js";
import { composeDir } from "./stack-fixtures.js";
import {
  fixtureImage,
  engine as local,
  testLabels,
  trappingCommand,
  uniqueName,
  waitForLine,
} from "./support.js";

const run = promisify(execFile);
const BERTH_BIN = join(process.cwd(), "bin", "berth.js");
const prefix = uniqueName("remote");
const config = mkdtempSync(join(tmpdir(), "berth-docker-config-"));
const dir = composeDir();
let relay: CountingRelay;
let tls: TlsEndpoint;
let ssh: SshEndpoint;

function dockerCli(args: string[], extra: Record<string, string> = {}) {
  return run("docker", args, {
    env: { ...process.env, DOCKER_CONFIG: config, DOCKER_HOST: "", DOCKER_CONTEXT: "", ...extra },
  });
}

beforeAll(async () => {
  relay = await startCountingRelay();
  tls = await startTlsEndpoint({ socketPath: relay.socketPath });
  ssh = await startSshEndpoint({ socketPath: relay.socketPath });
  const certs = tls.certPath;
  await dockerCli([
    "context",
    "create",
    "berth-tls",
    "--docker",
    `host=${tls.dockerHost},ca=${certs}/ca.pem,cert=${certs}/cert.pem,key=${certs}/key.pem`,
  ]);
  await dockerCli(["context", "create", "berth-ssh", "--docker", `host=${ssh.dockerHost}`]);
}, 120_000);

afterAll(async () => {
  const left = await local.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(left.map((c) => safeRemove(local, c.Id, { maxGraceSeconds: 2 })));
  await ssh?.stop();
  await tls?.stop();
  await relay?.stop();
  dir.remove();
  rmSync(config, { recursive: true, force: true });
});

interface Remote {
  kind: "tls" | "ssh";
  /** DOCKER_HOST (and TLS or ssh settings) for the endpoint itself. */
  env(): Record<string, string>;
  url(): string;
  /** DOCKER_CONTEXT naming the endpoint's context, and what else the endpoint needs. */
  contextEnv(): Record<string, string>;
}

const remotes: Remote[] = [
  {
    kind: "tls",
    env: () => tls.env(),
    url: () => tls.dockerHost,
    contextEnv: () => ({ DOCKER_CONFIG: config, DOCKER_CONTEXT: "berth-tls" }),
  },
  {
    kind: "ssh",
    env: () => ssh.env(),
    url: () => ssh.dockerHost,
    // A context stores the host only; the key comes from the ssh configuration, as for the CLI.
    contextEnv: () => ({
      DOCKER_CONFIG: config,
      DOCKER_CONTEXT: "berth-ssh",
      BERTH_SSH_CONFIG: ssh.sshConfig,
    }),
  },
];

const composeFile = () =>
  `services:\n  app:\n    image: ${fixtureImage()}\n    command: ["sh", "-c", "trap 'exit 0' TERM; echo up; sleep 3600 & wait"]\n    x-berth:\n      wait:\n        - log: up\n`;

/** `berth rm`, then (unless `rmOnly`) `berth up`, `ps` and `down` of a one-service project, all with `env`. */
async function rmUpPsDown(env: Record<string, string>, label: string, rmOnly = false): Promise<void> {
  // A container berth did not create, made through the same endpoint by the library.
  const engine = createEngine({ env });
  const name = `${prefix}-${label}`;
  try {
    const { id } = await engine.createContainer({
      name,
      Image: fixtureImage(),
      Cmd: trappingCommand(),
      Labels: testLabels(),
    });
    await engine.startContainer(id);
    await waitForLine(id);
  } finally {
    engine.close();
  }
  const rm = await berthWith(["rm", name, "--json"], env, dir.dir);
  expect(rm.code, rm.stderr).toBe(0);
  expect(JSON.parse(rm.stdout)).toMatchObject({ ok: true, outcome: "exited" });
  expect(await local.findContainer(name)).toBeUndefined();
  if (rmOnly) return;

  const project = `${prefix}-${label}`;
  const file = dir.file(`${label}.yaml`, composeFile());
  try {
    const up = await berthWith(["up", "-f", file, "-p", project, "--json"], env, dir.dir);
    expect(up.code, up.stderr).toBe(0);
    const ps = await berthWith(["ps", "-p", project, "--json"], env, dir.dir);
    expect(ps.code, ps.stderr).toBe(0);
    expect(
      JSON.parse(ps.stdout).map((r: { service: string; state: string }) => [r.service, r.state]),
    ).toEqual([["app", "running"]]);
  } finally {
    const down = await berthWith(["down", "-p", project], env, dir.dir);
    expect(down.code, down.stderr).toBe(0);
  }
  const filters = { label: [`${LABELS.project}=${project}`] };
  expect(await local.listContainers({ all: true, filters })).toEqual([]);
  expect(await local.listNetworks(filters)).toEqual([]);
}

describe.each(remotes)("a docker context pointing at the $kind endpoint", (remote) => {
  // ssh: `rm` only (each berth command opens ssh connections; up / ps / down over ssh are in
  // engine-endpoints.test.ts and in the proxy's test below).
  it("DOCKER_CONTEXT selects it: doctor names it, berth's commands run through it", {
    timeout: 180_000,
  }, async () => {
    const doctor = await berthWith(["doctor", "--no-checks", "--json"], remote.contextEnv(), dir.dir);
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(JSON.parse(doctor.stdout).endpoint).toMatchObject({
      url: remote.url(),
      kind: remote.kind === "tls" ? "tcp" : "ssh",
      source: `context berth-${remote.kind} via DOCKER_CONTEXT`,
    });
    relay.reset();
    await rmUpPsDown(remote.contextEnv(), `ctx-${remote.kind}`, remote.kind === "ssh");
    // The calls went through the endpoint (the relay behind it), not to the local socket.
    expect(relay.lifecycle().total).toBeGreaterThan(0);
  });
});

describe("`docker context use` of the TLS context", () => {
  it("makes it berth's endpoint: rm / up / ps / down run through it", { timeout: 180_000 }, async () => {
    await dockerCli(["context", "use", "berth-tls"]);
    try {
      const doctor = await berthWith(["doctor", "--no-checks"], { DOCKER_CONFIG: config }, dir.dir);
      expect(doctor.stdout).toContain(`endpoint:  ${tls.dockerHost}`);
      expect(doctor.stdout).toContain(
        `chosen:  context berth-tls via currentContext in ${config}/config.json`,
      );
      relay.reset();
      await rmUpPsDown({ DOCKER_CONFIG: config }, "use-tls");
      expect(relay.lifecycle().total).toBeGreaterThan(0);
    } finally {
      await dockerCli(["context", "use", "default"]);
    }
  });
});

/** `berth proxy` as a user starts it, with `env` naming the remote endpoint. */
async function startBerthProxy(env: Record<string, string>) {
  const proxyDir = mkdtempSync(join(tmpdir(), "berth-remote-proxy-"));
  const socketPath = join(proxyDir, "proxy.sock");
  const child: ChildProcess = spawn(
    process.execPath,
    [BERTH_BIN, "proxy", "--listen", `unix://${socketPath}`],
    {
      env: { ...process.env, DOCKER_CONTEXT: "", DOCKER_TLS_VERIFY: "", DOCKER_CERT_PATH: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stdout.includes("DOCKER_HOST=")) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`berth proxy exited (${child.exitCode}): ${stderr}`));
      }
    }, 50);
  });
  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    /** Waits until the proxy's stderr matches `pattern` (at most 30 s, then fails with it). */
    logged: async (pattern: RegExp) => {
      for (let waited = 0; !pattern.test(stderr); waited += 50) {
        if (waited > 30_000) throw new Error(`berth proxy never logged ${pattern}: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    metrics: async () =>
      JSON.parse((await http(socketPath, "GET", "/_berth/metrics")).body) as ProxyMetricsSnapshot,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(proxyDir, { recursive: true, force: true });
    },
  };
}

// The storm runs first on a fresh proxy, whose adaptive limit starts at 2: eight clients at once
// must queue. Small, because each ssh connection costs a process on both sides.
const CLIENTS = 8;
const LIFECYCLES_PER_CLIENT = 1;

/** One client with its own connection: create, start, stop, remove, `count` times in a row. */
async function rawClient(socketPath: string, name: string, count: number): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = payload
        ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }
        : {};
      const req = request({ socketPath, agent, method, path, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.end(payload);
    });
  const failures: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const created = await call("POST", `/v1.41/containers/create?name=${name}-${i}`, {
        Image: fixtureImage(),
        Labels: testLabels(),
        StopTimeout: 10,
        HostConfig: { NetworkMode: "none", Init: true },
        Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
      });
      if (created.status !== 201) {
        failures.push(`create: ${created.status} ${created.text}`);
        continue;
      }
      const id = (JSON.parse(created.text) as { Id: string }).Id;
      for (const [method, path, ok] of [
        ["POST", `/v1.41/containers/${id}/start`, [204]],
        ["POST", `/v1.41/containers/${id}/stop?t=10`, [204, 304]],
        ["DELETE", `/v1.41/containers/${id}?v=1`, [204]],
      ] as const) {
        const answer = await call(method, path);
        if (!(ok as readonly number[]).includes(answer.status))
          failures.push(`${method} ${path}: ${answer.status} ${answer.text}`);
      }
    }
  } finally {
    agent.destroy();
  }
  return failures;
}

describe.each(remotes)("berth proxy in front of the $kind endpoint", (remote) => {
  let proxy: Awaited<ReturnType<typeof startBerthProxy>>;
  beforeAll(async () => {
    proxy = await startBerthProxy(remote.env());
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it(`gives ${CLIENTS} clients at once one limiter: the daemon never sees more lifecycle calls than it granted`, {
    timeout: 240_000,
  }, async () => {
    relay.reset();
    const failures = (
      await Promise.all(
        Array.from({ length: CLIENTS }, (_, c) =>
          rawClient(proxy.socketPath, `${prefix}-storm-${remote.kind}-${c}`, LIFECYCLES_PER_CLIENT),
        ),
      )
    ).flat();
    expect(failures).toEqual([]);
    const m = await proxy.metrics();
    const atDaemon = relay.lifecycle();
    process.stdout.write(
      `proxy over ${remote.kind}: ${CLIENTS * LIFECYCLES_PER_CLIENT} lifecycles; at the daemon at most ${atDaemon.maxInFlight} in flight; ` +
        `proxy limit at most ${m.maxLimit} (now ${m.limit}); queued up to ${m.queuedTime.lifecycle.maxMs} ms\n`,
    );
    expect(m.requests.upstreamFailures).toBe(0);
    expect(atDaemon.total).toBeGreaterThanOrEqual(CLIENTS * LIFECYCLES_PER_CLIENT * 4);
    expect(m.maxLimit).not.toBeNull();
    expect(atDaemon.maxInFlight).toBeGreaterThan(0);
    expect(atDaemon.maxInFlight).toBeLessThanOrEqual(m.maxLimit!);
    // The limiter held calls back: the clients never reached the daemon all at once.
    expect(m.queuedTime.lifecycle.maxMs).toBeGreaterThan(0);
  });

  it("serves the docker CLI (run, ps, rm -f made graceful) and berth (rm / up / ps / down)", {
    timeout: 180_000,
  }, async () => {
    const env = {
      ...process.env,
      DOCKER_HOST: proxy.dockerHost,
      DOCKER_CONTEXT: "",
      DOCKER_CLI_HINTS: "false",
    };
    const name = `${prefix}-proxied-${remote.kind}`;
    const ran = await docker(
      [
        "run",
        "-d",
        "--name",
        name,
        ...suiteLabelArgs(),
        "--network",
        "none",
        fixtureImage(),
        ...trappingCommand(),
      ],
      { env },
    );
    expect(ran.code, ran.stderr).toBe(0);
    await waitForLine(name);
    const ps = await docker(["ps", "--filter", `name=${name}`, "--format", "{{.Names}}"], { env });
    expect(ps.stdout.trim()).toBe(name);
    const removed = await docker(["rm", "-f", name], { env });
    expect(removed.code, removed.stderr).toBe(0);
    // The proxy stopped it with SIGTERM first: its trap ran and it exited on its own. The proxy
    // logs the rewrite after answering, so the line may reach its stderr after docker exits.
    await proxy.logged(/rewrite: force removal made graceful \(exited/);
    expect(await local.findContainer(name)).toBeUndefined();

    await rmUpPsDown({ DOCKER_HOST: proxy.dockerHost }, `via-proxy-${remote.kind}`);
  });
});

const GUARDED_LIFECYCLES = 8;

describe.each(remotes)("the guard on the $kind endpoint", (remote) => {
  it(`limits ${GUARDED_LIFECYCLES} concurrent lifecycles adaptively and removes each gracefully`, {
    timeout: 240_000,
  }, async () => {
    const engine = createEngine({ env: remote.env() });
    const guard = guardOf(engine)!;
    relay.reset();
    try {
      const outcomes = await Promise.all(
        Array.from({ length: GUARDED_LIFECYCLES }, async (_, i) => {
          const { id } = await engine.createContainer({
            name: `${prefix}-guard-${remote.kind}-${i}`,
            Image: fixtureImage(),
            Cmd: trappingCommand(),
            Labels: testLabels(),
            HostConfig: { NetworkMode: "none" },
          });
          await engine.startContainer(id);
          await waitForLine(id);
          return (await safeRemove(engine, id)).outcome;
        }),
      );
      expect(outcomes).toEqual(Array(GUARDED_LIFECYCLES).fill("exited"));
    } finally {
      engine.close();
    }
    const metrics = guard.metrics.snapshot();
    const atDaemon = relay.lifecycle();
    expect(metrics.limiter).toMatchObject({ mode: "adaptive", inFlight: 0, queued: 0 });
    expect(metrics.failures).toBe(0);
    expect(atDaemon.total).toBeGreaterThanOrEqual(GUARDED_LIFECYCLES * 3);
    expect(atDaemon.maxInFlight).toBeGreaterThan(0);
    expect(atDaemon.maxInFlight).toBeLessThanOrEqual(metrics.limiter.highestLimit);
    // Eight creates at once met a limit that starts at 2: some waited for a slot.
    expect(metrics.queued.lifecycle.max).toBeGreaterThan(0);
  });
});

// Eight separate processes, each running 24 container lifecycles at once through one proxy: no
// failures, and the proxy never has more lifecycle calls at the daemon than its limiter allows.
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { startTestProxy, type TestProxy } from "./proxy-support.js";
import { engine, fixtureImage, testLabels, uniqueName } from "./support.js";

const PROCESSES = 8;
/** 24 as the issue asks; BERTH_TEST_STORM_PER_PROCESS lowers it for a quick local look. */
const LIFECYCLES_PER_PROCESS = Number(process.env.BERTH_TEST_STORM_PER_PROCESS ?? 24);

/** One client process: raw Engine API calls over the proxy's socket, all lifecycles at once. */
const WORKER = `
import { Agent, request } from "node:http";
const [socketPath, image, labelsJson, prefix, count] = process.argv.slice(1);
const agent = new Agent({ keepAlive: true });
const call = (method, path, body) => new Promise((resolve, reject) => {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = request({ socketPath, agent, method, path, headers: payload
    ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {} }, (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c) => { text += c; });
    res.on("end", () => resolve({ status: res.statusCode, text }));
  });
  req.on("error", reject);
  req.end(payload);
});
const expectStatus = (step, r, ok) => { if (!ok.includes(r.status)) throw new Error(step + ": " + r.status + " " + r.text); };
async function lifecycle(i) {
  const name = prefix + "-" + i;
  const created = await call("POST", "/v1.41/containers/create?name=" + name, {
    Image: image, Labels: JSON.parse(labelsJson), StopTimeout: 10, HostConfig: { NetworkMode: "none", Init: true },
    Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
  });
  expectStatus("create", created, [201]);
  const id = JSON.parse(created.text).Id;
  expectStatus("start", await call("POST", "/v1.41/containers/" + id + "/start"), [204]);
  expectStatus("stop", await call("POST", "/v1.41/containers/" + id + "/stop?t=10"), [204, 304]);
  expectStatus("remove", await call("DELETE", "/v1.41/containers/" + id + "?v=1"), [204]);
}
const results = await Promise.allSettled(Array.from({ length: Number(count) }, (_, i) => lifecycle(i)));
const failures = results.filter((r) => r.status === "rejected").map((r) => String(r.reason?.message ?? r.reason));
process.stdout.write(JSON.stringify({ failures }) + "\\n");
agent.destroy();
`;

const workers = new Set<ChildProcess>();

function runWorker(
  socketPath: string,
  prefix: string,
): Promise<{ code: number; failures: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        WORKER,
        socketPath,
        fixtureImage(),
        JSON.stringify(testLabels({ "berth.test": "proxy-storm" })),
        prefix,
        String(LIFECYCLES_PER_PROCESS),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    workers.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("exit", (code) => {
      workers.delete(child);
      let failures: string[] = [`no result (exit ${code})`];
      try {
        failures = (JSON.parse(stdout.trim()) as { failures: string[] }).failures;
      } catch {
        // Keep the placeholder: the worker died before reporting.
      }
      resolve({ code: code ?? -1, failures, stderr });
    });
  });
}

let t: TestProxy;
const prefix = uniqueName("storm");

beforeAll(async () => {
  t = await startTestProxy();
});

afterAll(async () => {
  // A timed-out run must not leave workers creating containers after the cleanup.
  for (const child of workers) child.kill("SIGKILL");
  const left = await engine.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(left.map((c) => safeRemove(engine, c.Id, { maxGraceSeconds: 2 })));
  await t?.stop();
});

describe("a storm from many processes through one proxy", () => {
  it(`runs ${PROCESSES} x ${LIFECYCLES_PER_PROCESS} concurrent lifecycles with zero failures, in-flight within the limit`, {
    timeout: 300_000,
  }, async () => {
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) => runWorker(t.socketPath, `${prefix}-p${p}`)),
    );
    const failures = results.flatMap((w) => w.failures);
    expect(failures).toEqual([]);
    expect(results.map((w) => w.code)).toEqual(Array(PROCESSES).fill(0));

    const m = t.proxy.metrics();
    const total = PROCESSES * LIFECYCLES_PER_PROCESS;
    expect(m.requests.byClass.lifecycle).toBeGreaterThanOrEqual(total * 4);
    expect(m.requests.upstreamFailures).toBe(0);
    expect(m.requests.byStatus["5xx"] ?? 0).toBe(0);
    // The limiter held calls back: 192 lifecycles at once never reached the daemon at once.
    expect(m.maxLimit).not.toBeNull();
    expect(m.maxInFlight.lifecycle).toBeGreaterThan(0);
    expect(m.maxInFlight.lifecycle).toBeLessThanOrEqual(m.maxLimit!);
    expect(m.queuedTime.lifecycle.maxMs).toBeGreaterThan(0);
    expect(m.inFlight).toEqual({ read: 0, lifecycle: 0, stream: 0 });
    process.stdout.write(
      `proxy storm: ${total} lifecycles; max in flight ${m.maxInFlight.lifecycle} (limit at most ${m.maxLimit}, now ${m.limit}); ` +
        `lifecycle p50 ${m.latency.lifecycle.p50Ms} ms, p95 ${m.latency.lifecycle.p95Ms} ms; queued p95 ${m.queuedTime.lifecycle.p95Ms} ms\n`,
    );
  });
});

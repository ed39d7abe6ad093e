// Retries against real faults: a small TCP proxy in front of the Docker socket resets chosen
// connections, either before a request reaches the daemon or after the daemon has acted on it
// (so the client never sees the answer). The guard must retry what is safe, answer a create from
// the container it already made, and never send a non-idempotent call twice.
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { AbortedError, TransientError } from "../../src/engine/errors.js";
import { createEngine, guardOf } from "../../src/guard/guard.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import {
  engine as direct,
  fixtureImage,
  testLabels,
  trappingCommand,
  uniqueName,
  waitForLine,
} from "./support.js";

interface Fault {
  method: string;
  path: RegExp;
  /** `before`: reset instead of forwarding; `after`: forward, then reset instead of answering. */
  when: "before" | "after";
  times: number;
}

interface FaultyProxy {
  port: number;
  faults: Fault[];
  /** Request lines the proxy broke. */
  broken: string[];
  close(): Promise<void>;
}

const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/;

async function startFaultyProxy(socketPath = "/var/run/docker.sock"): Promise<FaultyProxy> {
  const faults: Fault[] = [];
  const broken: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(socketPath);
    sockets.add(client);
    sockets.add(upstream);
    let resetOnAnswer = false;
    const breakBoth = () => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      const request = REQUEST_LINE.exec(chunk.toString("latin1"));
      if (request) {
        const fault = faults.find((f) => f.times > 0 && f.method === request[1] && f.path.test(request[2]!));
        if (fault) {
          fault.times -= 1;
          broken.push(`${fault.when} ${request[1]} ${request[2]}`);
          if (fault.when === "before") {
            breakBoth();
            return;
          }
          resetOnAnswer = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (resetOnAnswer) breakBoth();
      else client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    faults,
    broken,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let proxy: FaultyProxy;
let engine: Engine;

beforeAll(async () => {
  proxy = await startFaultyProxy();
  engine = createEngine({
    dockerHost: `tcp://127.0.0.1:${proxy.port}`,
    env: {},
    limiter: "adaptive",
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
  });
});

afterAll(async () => {
  await proxy?.close();
});

/** Names each test created, removed afterwards even when the test failed half-way. */
const created: string[] = [];
afterEach(async () => {
  await Promise.all(created.splice(0).map((name) => safeRemove(direct, name, { graceSeconds: 5 })));
  proxy.faults.length = 0;
});

function named(prefix: string): string {
  const name = uniqueName(prefix);
  created.push(name);
  return name;
}

function brokenRequests(prefix: string): number {
  return proxy.broken.filter((line) => line.startsWith(prefix)).length;
}

function spec(name: string) {
  return { name, Image: fixtureImage(), Cmd: trappingCommand(), Labels: testLabels(), StopTimeout: 10 };
}

async function containersNamed(name: string) {
  return direct.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
}

describe("the guard against a connection-resetting proxy", () => {
  it("retries a removal whose connection was reset before it reached the daemon", async () => {
    const name = named("retry-rm");
    const { id } = await engine.createContainer(spec(name));
    await engine.startContainer(id);
    await waitForLine(id);
    proxy.faults.push({
      method: "DELETE",
      path: new RegExp(`/containers/${id}\\?`),
      when: "before",
      times: 1,
    });
    const retriesBefore = guardOf(engine)!.metrics.snapshot().retries;

    const record = await safeRemove(engine, id, { graceSeconds: 10 });

    expect(record.outcome).toBe("exited");
    expect(brokenRequests(`before DELETE /containers/${id}?`)).toBe(1);
    expect(guardOf(engine)!.metrics.snapshot().retries).toBeGreaterThan(retriesBefore);
    expect(await containersNamed(name)).toHaveLength(0);
  });

  it("retries a stop whose answer was lost after the daemon stopped the container", async () => {
    const name = named("retry-stop");
    const { id } = await engine.createContainer(spec(name));
    await engine.startContainer(id);
    await waitForLine(id);
    proxy.faults.push({
      method: "POST",
      path: new RegExp(`/containers/${id}/stop`),
      when: "after",
      times: 1,
    });

    const result = await engine.stopContainer(id, 10);

    // The retry found the container already stopped by the first, lost, attempt.
    expect(result.alreadyStopped).toBe(true);
    expect((await direct.inspectContainer(id)).State.ExitCode).toBe(0);
    await safeRemove(engine, id);
  });

  it("answers a create whose answer was lost with the container it made, and makes no second one", async () => {
    const name = named("retry-create");
    proxy.faults.push({
      method: "POST",
      path: new RegExp(`/containers/create\\?name=${name}(&|$)`),
      when: "after",
      times: 1,
    });
    const recoveredBefore = guardOf(engine)!.metrics.snapshot().recoveredCreates;

    const { id } = await engine.createContainer(spec(name));

    expect(brokenRequests(`after POST /containers/create?name=${name}`)).toBe(1);
    const found = await containersNamed(name);
    expect(found.map((c) => c.Id)).toEqual([id]);
    expect(guardOf(engine)!.metrics.snapshot().recoveredCreates).toBe(recoveredBefore + 1);
    await safeRemove(engine, id);
  });

  it("creates again when the lookup shows the first create never arrived", async () => {
    const name = named("retry-create2");
    proxy.faults.push({
      method: "POST",
      path: new RegExp(`/containers/create\\?name=${name}(&|$)`),
      when: "before",
      times: 1,
    });

    const { id } = await engine.createContainer(spec(name));

    expect(brokenRequests(`before POST /containers/create?name=${name}`)).toBe(1);
    expect((await containersNamed(name)).map((c) => c.Id)).toEqual([id]);
    await safeRemove(engine, id);
  });

  it("does not send a non-idempotent kill again after a reset", async () => {
    const name = named("retry-kill");
    const { id } = await engine.createContainer(spec(name));
    await engine.startContainer(id);
    proxy.faults.push({
      method: "POST",
      path: new RegExp(`/containers/${id}/kill`),
      when: "before",
      times: 1,
    });

    const error = await engine.killContainer(id, "SIGUSR1").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientError);
    expect(brokenRequests(`before POST /containers/${id}/kill`)).toBe(1);
    expect((await direct.inspectContainer(id)).State.Running).toBe(true);
    await safeRemove(engine, id);
  });

  it("neither retries nor logs a retry of a wait its caller aborted", async () => {
    const name = named("aborted-wait");
    const lines: string[] = [];
    const logged = createEngine({
      env: {},
      log: { level: "debug" },
      logSink: (line) => lines.push(line),
    });
    const { id } = await logged.createContainer(spec(name));
    await logged.startContainer(id);
    await waitForLine(id);
    const controller = new AbortController();
    const waiting = logged.waitContainer(id, "not-running", controller.signal);
    setTimeout(() => controller.abort(), 200);

    const error = await waiting.catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AbortedError);
    const waitLines = lines.filter((line) => line.includes("container.wait"));
    expect(waitLines.length).toBeGreaterThan(0);
    expect(waitLines.filter((line) => line.includes(" retry "))).toEqual([]);
  });
});

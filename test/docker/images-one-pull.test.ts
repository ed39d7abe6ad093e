// One pull per image against a real registry: 8 concurrent ups in one process, 4 `berth pull`
// processes, and 8 clients of `berth proxy` asking for the same absent image each make the
// registry serve its manifest once (counted at the fault relay in front of it).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../../src/model/sleep.js";
import { defineProject } from "../../src/stack/builder.js";
import type { StartedEnvironment } from "../../src/stack/environment.js";
import type { StackEvent } from "../../src/stack/progress/events.js";
import { listServices } from "../../src/stack/status.js";
import { up } from "../../src/stack/up.js";
import { http, startTestProxy } from "./proxy-support.js";
import {
  dockerConfigDir,
  loginEntry,
  pushUniqueImage,
  type RegistryRelay,
  registryAuth,
  removeLocalImage,
  startRegistry,
  startRegistryRelay,
  type TestRegistry,
} from "./registry-support.js";
import { composeDir } from "./stack-fixtures.js";
import { engine } from "./support.js";

let registry: TestRegistry;
let relay: RegistryRelay;
let config: { dir: string; remove(): void };
const REPO = "berth-test/shared";
const tags = ["ups", "processes", "proxy"];
const imageOf = (tag: string) => `${relay.host}/${REPO}:${tag}`;

beforeAll(async () => {
  registry = await startRegistry();
  relay = await startRegistryRelay(registry.host);
  for (const tag of tags) await pushUniqueImage(imageOf(tag), registry.password);
  config = dockerConfigDir({ auths: { [relay.host]: loginEntry(registry.password) } });
}, 240_000);

afterEach(() => {
  relay.decide = () => ({ kind: "pass" });
});

afterAll(async () => {
  for (const tag of tags) await removeLocalImage(imageOf(tag));
  config?.remove();
  await relay?.close();
  await registry?.stop();
});

/** Holds every layer download at the relay until `release()`. */
function holdLayers(): () => void {
  let release!: () => void;
  const until = new Promise<void>((resolve) => {
    release = resolve;
  });
  relay.decide = ({ kind }) => (kind === "blob" ? { kind: "hold", until } : { kind: "pass" });
  return release;
}

describe("one pull per image", () => {
  it("8 concurrent ups in one process fetch the manifest once, and record the image id", {
    timeout: 300_000,
  }, async () => {
    const image = imageOf("ups");
    const previous = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = config.dir;
    const envs: StartedEnvironment[] = [];
    try {
      const spec = defineProject({
        name: "berth-test-one-pull",
        services: { app: { image, command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"] } },
      });
      const phases: string[] = [];
      const onProgress = (event: StackEvent) => {
        if (event.type === "image") phases.push(event.phase);
      };
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => up({ spec, watch: false, onProgress })),
      );
      for (const r of results) if (r.status === "fulfilled") envs.push(r.value);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      expect(relay.manifestFetches(REPO, "ups")).toBe(1);
      // They joined one pull in this process: none of them queued on the machine-wide lock.
      expect(phases.filter((p) => p === "waiting")).toEqual([]);
      expect(phases).toContain("pulled");
      const id = (await engine.inspectImage(image)).Id;
      expect(new Set(envs.map((e) => e.service("app").imageId))).toEqual(new Set([id]));
      const rows = await listServices(engine, { session: envs[0]!.session });
      expect(rows[0]).toMatchObject({ image, imageId: id });
    } finally {
      if (previous === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = previous;
      await Promise.all(envs.map((e) => e.down()));
    }
  });

  it("4 berth pull processes fetch the manifest once: they take turns on the image's lock", {
    timeout: 300_000,
  }, async () => {
    const image = imageOf("processes");
    const dir = composeDir();
    const release = holdLayers();
    try {
      dir.file("compose.yaml", `services:\n  app:\n    image: ${image}\n`);
      let waiting = 0;
      let sawWaiting!: () => void;
      const allWaiting = new Promise<void>((resolve) => {
        sawWaiting = resolve;
      });
      const runs = Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, [join(process.cwd(), "bin", "berth.js"), "pull", "--json"], {
          cwd: dir.dir,
          env: { ...process.env, DOCKER_CONFIG: config.dir },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => {
          const text = d.toString("utf8");
          stderr += text;
          waiting += text.split('"phase":"waiting"').length - 1;
          if (waiting >= 3) sawWaiting();
        });
        return new Promise<{ code: number | null; stderr: string }>((resolve) =>
          child.once("exit", (code) => resolve({ code, stderr })),
        );
      });
      // Three processes wait for the one whose pull is held at the relay; then it may finish.
      // A second manifest fetch means a second pull started: no use holding the layers then.
      let settled = false;
      const secondPull = (async () => {
        while (!settled && relay.manifestFetches(REPO, "processes") < 2) await sleep(50);
      })();
      await Promise.race([allWaiting, Promise.all(runs), secondPull]);
      settled = true;
      release();
      for (const ran of await Promise.all(runs)) expect(ran.code, ran.stderr).toBe(0);
      expect(relay.manifestFetches(REPO, "processes")).toBe(1);
      expect(waiting).toBe(3);
      expect(await engine.findImage(image)).toBeDefined();
    } finally {
      release();
      dir.remove();
    }
  });

  it("8 clients of berth proxy share one pull and all get its progress", { timeout: 300_000 }, async () => {
    const image = imageOf("proxy");
    const proxy = await startTestProxy();
    const release = holdLayers();
    try {
      const path = `/v1.41/images/create?fromImage=${encodeURIComponent(`${relay.host}/${REPO}`)}&tag=proxy`;
      const headers = { "X-Registry-Auth": registryAuth(relay.host, registry.password) };
      const clients = Array.from({ length: 8 }, () => http(proxy.socketPath, "POST", path, { headers }));
      // All 8 have reached the proxy (each joined a pull, or without coalescing started its own,
      // which fetches its manifest before its layers wait at the relay): the layers may come.
      await expect
        .poll(() => proxy.proxy.metrics().requests.byClass.stream, { timeout: 60_000, interval: 50 })
        .toBeGreaterThanOrEqual(8);
      release();
      const answers = await Promise.all(clients);
      expect(relay.manifestFetches(REPO, "proxy")).toBe(1);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body).toContain("Status: Downloaded newer image");
      }
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
      expect(await engine.findImage(image)).toBeDefined();
    } finally {
      release();
      await proxy.stop();
    }
  });
});

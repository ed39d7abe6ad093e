// Faults inside the pull itself, against a real registry and a real daemon: through a relay in
// front of the daemon's Engine API, a pull stream that carries an error object, one cut in the
// middle and one that ends before the daemon's final status are pulled again and succeed, while
// "manifest unknown" inside the stream is final. And a layer download reset more often than the
// daemon retries by itself (a private daemon with max-download-attempts 1) is saved by berth's
// retry. No secret appears in any error, progress event or debug log line on these paths.
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { privateDaemonUnavailable, startPrivateDaemon } from "../../src/fixtures/private-daemon.js";
import { createEngine, guardOf } from "../../src/guard/guard.js";
import { ImageNotFoundError } from "../../src/images/errors.js";
import { ensureImage } from "../../src/images/pull.js";
import type { ImageProgress } from "../../src/images/pull-progress.js";
import { type PullStreamRelay, startPullStreamRelay } from "./pull-stream-relay.js";
import {
  dockerConfigDir,
  exposeToNamespace,
  layerDigests,
  loginEntry,
  pushUniqueImage,
  REGISTRY_USER,
  type RegistryRelay,
  registryAuth,
  removeLocalImage,
  startRegistry,
  startRegistryRelay,
  type TestRegistry,
} from "./registry-support.js";

let registry: TestRegistry;
let relay: RegistryRelay;
let daemonRelay: PullStreamRelay;
let config: { dir: string; remove(): void };
let engine: Engine;
const logLines: string[] = [];
const REPO = "berth-test/faults";
const imageOf = (tag: string) => `${relay.host}/${REPO}:${tag}`;

beforeAll(async () => {
  registry = await startRegistry();
  relay = await startRegistryRelay(registry.host);
  for (const tag of ["stream", "layer"]) await pushUniqueImage(imageOf(tag), registry.password);
  config = dockerConfigDir({ auths: { [relay.host]: loginEntry(registry.password) } });
  daemonRelay = await startPullStreamRelay();
  engine = createEngine({
    dockerHost: daemonRelay.dockerHost,
    log: { level: "debug" },
    logSink: (line) => logLines.push(line),
  });
}, 180_000);

afterEach(async () => {
  relay.decide = () => ({ kind: "pass" });
  daemonRelay.decide = () => ({ kind: "pass" });
  daemonRelay.pulls.length = 0;
  await removeLocalImage(imageOf("stream"));
});

afterAll(async () => {
  for (const tag of ["stream", "layer"]) await removeLocalImage(imageOf(tag));
  await daemonRelay?.close();
  config?.remove();
  await relay?.close();
  await registry?.stop();
});

function secretsIn(text: string): string[] {
  const basic = Buffer.from(`${REGISTRY_USER}:${registry.password}`).toString("base64");
  const header = registryAuth(relay.host, registry.password);
  return [registry.password, basic, header].filter((s) => text.includes(s));
}

function pull(on: Engine, image: string, events: ImageProgress[]) {
  return ensureImage(on, image, { env: { DOCKER_CONFIG: config.dir }, onProgress: (p) => events.push(p) });
}

describe("faults in the daemon's pull stream", () => {
  it("an error object in the 200 stream is retried with the guard's backoff, then the pull succeeds", async () => {
    const message = "received unexpected HTTP status: 503 Service Unavailable";
    daemonRelay.decide = ({ index }) =>
      index === 1 ? { kind: "error-object", afterLines: 1, message } : { kind: "pass" };
    const events: ImageProgress[] = [];
    const pulled = await pull(engine, imageOf("stream"), events);
    expect(pulled.pulled).toBe(true);
    expect(daemonRelay.pulls.map((p) => p.fault)).toEqual(["error-object", "pass"]);
    const retries = events.filter((e) => e.phase === "retrying");
    expect(retries).toHaveLength(1);
    expect(retries[0]!.reason).toBe(`transient: ${message}`);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(guardOf(engine)!.retry.baseDelayMs);
    expect(await engine.findImage(imageOf("stream"))).toBeDefined();
    expect(secretsIn(JSON.stringify(events))).toEqual([]);
  });

  it("a stream cut before its end is retried by the guard, then the pull succeeds", async () => {
    daemonRelay.decide = ({ index }) => (index === 1 ? { kind: "cut", afterLines: 1 } : { kind: "pass" });
    const retriesBefore = guardOf(engine)!.metrics.snapshot().retries;
    const events: ImageProgress[] = [];
    const pulled = await pull(engine, imageOf("stream"), events);
    expect(pulled.pulled).toBe(true);
    expect(daemonRelay.pulls.map((p) => p.fault)).toEqual(["cut", "pass"]);
    // The cut is a broken connection: the guard sent the same pull again (no second policy on top).
    expect(guardOf(engine)!.metrics.snapshot().retries - retriesBefore).toBe(1);
    expect(events.some((e) => e.phase === "failed")).toBe(false);
    expect(await engine.findImage(imageOf("stream"))).toBeDefined();
  });

  it("a stream that ends cleanly before the daemon's final status is pulled again", async () => {
    daemonRelay.decide = ({ index }) =>
      index === 1 ? { kind: "end-early", afterLines: 1 } : { kind: "pass" };
    const events: ImageProgress[] = [];
    const pulled = await pull(engine, imageOf("stream"), events);
    expect(pulled.pulled).toBe(true);
    expect(daemonRelay.pulls.map((p) => p.fault)).toEqual(["end-early", "pass"]);
    const retries = events.filter((e) => e.phase === "retrying");
    expect(retries.map((e) => e.reason)).toEqual([
      expect.stringMatching(/^transient: pull stream ended early/),
    ]);
    expect(await engine.findImage(imageOf("stream"))).toBeDefined();
  });

  it("manifest unknown inside the stream is final: not retried, and the error says registry, image and what to check", async () => {
    const image = imageOf("stream");
    const message = `manifest for ${image} not found: manifest unknown: manifest unknown`;
    daemonRelay.decide = () => ({ kind: "error-object", afterLines: 1, message });
    const events: ImageProgress[] = [];
    const error = await pull(engine, image, events).catch((e) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect(error.code).toBe("BERTH_IMAGE_NOT_FOUND");
    expect(error.message).toBe(`Image ${image} from ${relay.host} not found: ${message}`);
    expect(error.registry).toBe(relay.host);
    expect(error.hint).toBe(
      `Check the repository name (${REPO}) and the tag (stream); a private repository may also answer this without a login.`,
    );
    expect(daemonRelay.pulls).toHaveLength(1);
    expect(events.some((e) => e.phase === "retrying")).toBe(false);
    expect(events.at(-1)).toMatchObject({ phase: "failed" });
    const text = [inspect(error, { depth: 10 }), JSON.stringify(error), JSON.stringify(events)].join("\n");
    expect(secretsIn(text)).toEqual([]);
  });
});

describe.skipIf(privateDaemonUnavailable() !== undefined)(
  "a layer reset past the daemon's own retries",
  () => {
    it("is saved by berth's retry (a private daemon with max-download-attempts 1)", {
      timeout: 120_000,
    }, async () => {
      const image = imageOf("layer");
      const [layer] = (await layerDigests(registry, REPO, "layer")).slice(-1);
      const daemon = await startPrivateDaemon({ extraArgs: ["--max-download-attempts=1"] });
      const bridge = await exposeToNamespace(daemon.pid, Number(relay.host.split(":")[1]));
      const privateEngine = createEngine({
        dockerHost: daemon.dockerHost,
        log: { level: "debug" },
        logSink: (line) => logLines.push(line),
      });
      try {
        // Every download of the image's own layer breaks 256 KB in, for as long as the daemon's
        // first pull tries (the manifest is fetched once per pull): only a second pull can succeed.
        const manifestsBefore = relay.manifestFetches(REPO, "layer");
        relay.decide = ({ method, path }) =>
          method === "GET" &&
          path.endsWith(`/blobs/${layer}`) &&
          relay.manifestFetches(REPO, "layer") - manifestsBefore === 1
            ? { kind: "reset-mid-body", afterBytes: 256 * 1024 }
            : { kind: "pass" };
        const events: ImageProgress[] = [];
        const pulled = await pull(privateEngine, image, events);
        expect(pulled.pulled).toBe(true);
        const layerGets = relay.requests.filter(
          (r) => r.method === "GET" && r.path.endsWith(`/blobs/${layer}`),
        );
        const resets = layerGets.filter((r) => r.action === "reset-mid-body").length;
        // The daemon retried by itself (its log says so), and every attempt of its first pull that
        // reached the registry broke. Its log is not a count of those attempts: under load it also
        // logs retries whose request never reached the registry through the namespace bridge.
        const daemonRetries = daemon.log().match(/Download failed, retrying/g)?.length ?? 0;
        expect(daemonRetries).toBeGreaterThanOrEqual(1);
        expect(resets).toBeGreaterThanOrEqual(1);
        // ...and berth's second pull downloaded the layer whole (under load the daemon may fetch
        // it twice in that pull; every fetch after the resets passes).
        const actions = layerGets.map((r) => r.action);
        expect(actions.slice(0, resets)).toEqual(Array(resets).fill("reset-mid-body"));
        expect(actions.length).toBeGreaterThan(resets);
        expect(new Set(actions.slice(resets))).toEqual(new Set(["pass"]));
        expect(relay.manifestFetches(REPO, "layer") - manifestsBefore).toBe(2);
        const retries = events.filter((e) => e.phase === "retrying");
        expect(retries).toHaveLength(1);
        expect(retries[0]!.reason).toMatch(/^transient: /);
        expect(await privateEngine.findImage(image)).toBeDefined();
        expect(secretsIn(JSON.stringify(events))).toEqual([]);
      } finally {
        await bridge.close();
        await daemon.stop();
      }
    });
  },
);

describe("the debug log", () => {
  it("of every engine call on these paths names no secret", () => {
    expect(logLines.some((line) => line.includes("image.pull"))).toBe(true);
    expect(secretsIn(logLines.join("\n"))).toEqual([]);
  });
});

// bench/pull: 8 test workers want the same image, which the daemon does not have. Time to the
// first ready service (and to all 8), through berth (8 concurrent `up`s in one process: one pull,
// shared) and raw (8 parallel `POST /images/create` straight to the daemon, then create and start
// as each pull ends), against a real registry on 127.0.0.1 (Debian's docker-registry with an
// htpasswd user, behind the test suite's counting relay). The image is removed before every
// round; rounds alternate which side goes first. Also counted per round: the manifest and blob
// requests the registry served. `npm run bench -- pull` (BENCH_ROUNDS, default 5;
// BENCH_PULL_LAYER_MB, default 8: the size of the image's own layer of random bytes).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { defaultEngine } from "../src/guard/default-engine.js";
import { defineProject } from "../src/stack/builder.js";
import type { StartedEnvironment } from "../src/stack/environment.js";
import type { StackEvent } from "../src/stack/progress/events.js";
import { up } from "../src/stack/up.js";
import {
  daemonRequest,
  dockerConfigDir,
  loginEntry,
  pushUniqueImage,
  type RegistryRelay,
  registryAuth,
  removeLocalImage,
  startRegistry,
  startRegistryRelay,
} from "../test/docker/registry-support.js";
import { benchEnv, benchLabels, median, printJson, printTable, ratio, round } from "./support.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LAYER_MB = Number(process.env.BENCH_PULL_LAYER_MB ?? 8);
const WORKERS = 8;
const REPO = "berth-bench/pull";
const COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

interface Round {
  /** From the start until the first pull finished (the image is on the daemon). */
  pulledMs: number;
  firstReadyMs: number;
  allReadyMs: number;
  manifests: number;
  blobs: number;
}

type Side = "berth" | "raw";

function registryCounts(relay: RegistryRelay, since: number): { manifests: number; blobs: number } {
  const seen = relay.requests.slice(since);
  return {
    manifests: seen.filter((r) => r.kind === "manifest" && (r.method === "GET" || r.method === "HEAD"))
      .length,
    blobs: seen.filter((r) => r.kind === "blob" && r.method === "GET").length,
  };
}

/**
 * Runs `work` 8 times at once: when the first and the last finished (ms from `began`), and the
 * first failure, if any, once all have settled.
 */
async function race(
  began: number,
  work: () => Promise<unknown>,
): Promise<{ firstMs: number; allMs: number; failure?: unknown }> {
  let firstMs: number | undefined;
  const settled = await Promise.allSettled(
    Array.from({ length: WORKERS }, () =>
      work().then(() => {
        firstMs ??= performance.now() - began;
      }),
    ),
  );
  const allMs = performance.now() - began;
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  return { firstMs: firstMs ?? allMs, allMs, ...(failed ? { failure: failed.reason } : {}) };
}

export default async function main(): Promise<void> {
  const engine = defaultEngine();
  const raw = new Engine();
  const run = `${process.pid}`;
  const labels = { ...benchLabels("pull", run), "berth.bench.marker": `pull-${run}` };
  const base = (await ensureBusyboxFixture(engine)).ref;
  const registry = await startRegistry();
  const relay = await startRegistryRelay(registry.host);
  const image = `${relay.host}/${REPO}:1`;
  const config = dockerConfigDir({ auths: { [relay.host]: loginEntry(registry.password) } });
  const lockDir = mkdtempSync(join(tmpdir(), "berth-bench-pull-locks-"));
  process.env.DOCKER_CONFIG = config.dir;
  process.env.BERTH_PULL_LOCK_DIR = lockDir;
  const loadBefore = execFileSync("uptime", { encoding: "utf8" }).trim();
  const results: Record<Side, Round[]> = { berth: [], raw: [] };
  const spec = defineProject({
    name: "bench-pull",
    services: { app: { image, command: COMMAND, labels } },
  });

  const berth = async (): Promise<Omit<Round, "manifests" | "blobs">> => {
    const envs: StartedEnvironment[] = [];
    const began = performance.now();
    let pulledMs: number | undefined;
    const onProgress = (event: StackEvent) => {
      if (event.type === "image" && event.phase === "pulled") pulledMs ??= performance.now() - began;
    };
    const timed = await race(began, async () => {
      envs.push(await up({ spec, watch: false, onProgress }));
    });
    await Promise.all(envs.map((e) => e.down()));
    if (timed.failure) throw timed.failure;
    return { pulledMs: pulledMs ?? Number.NaN, firstReadyMs: timed.firstMs, allReadyMs: timed.allMs };
  };

  const rawSide = async (): Promise<Omit<Round, "manifests" | "blobs">> => {
    const auth = registryAuth(relay.host, registry.password);
    const ids: string[] = [];
    const began = performance.now();
    let pulledMs: number | undefined;
    const timed = await race(began, async () => {
      const pulled = await daemonRequest(
        "POST",
        `/images/create?fromImage=${encodeURIComponent(`${relay.host}/${REPO}`)}&tag=1`,
        { "X-Registry-Auth": auth },
      );
      if (pulled.status !== 200 || pulled.body.includes('"error"'))
        throw new Error(`raw pull failed: ${pulled.status}`);
      pulledMs ??= performance.now() - began;
      const { id } = await raw.createContainer({ Image: image, Cmd: COMMAND, Labels: labels });
      ids.push(id);
      await raw.startContainer(id);
    });
    await Promise.all(
      ids.map(async (id) => {
        await raw.killContainer(id).catch(() => {});
        await raw.removeContainer(id, { volumes: true });
      }),
    );
    if (timed.failure) throw timed.failure;
    return { pulledMs: pulledMs ?? Number.NaN, firstReadyMs: timed.firstMs, allReadyMs: timed.allMs };
  };

  const measure = async (side: Side): Promise<Round> => {
    await removeLocalImage(image);
    if (await engine.findImage(image)) throw new Error(`${image} is still on the daemon before a round`);
    const since = relay.requests.length;
    const timing = side === "berth" ? await berth() : await rawSide();
    return { ...timing, ...registryCounts(relay, since) };
  };

  try {
    process.stdout.write(`load before: ${loadBefore}\n`);
    await pushUniqueImage(image, registry.password, { base, labels, layerBytes: LAYER_MB * 1024 * 1024 });
    // One untimed round each: first connections, module loading, the registry's first reads.
    await measure("berth");
    await measure("raw");
    for (let i = 0; i < ROUNDS; i++) {
      const order: Side[] = i % 2 === 0 ? ["berth", "raw"] : ["raw", "berth"];
      for (const side of order) {
        const r = await measure(side);
        results[side].push(r);
        process.stdout.write(
          `round ${i + 1}/${ROUNDS} ${side}: pulled ${r.pulledMs.toFixed(0)} ms, first ready ${r.firstReadyMs.toFixed(0)} ms, all ${WORKERS} ${r.allReadyMs.toFixed(0)} ms, registry: ${r.manifests} manifest, ${r.blobs} blob requests\n`,
        );
      }
    }
  } finally {
    await removeLocalImage(image);
    await relay.close();
    await registry.stop();
    config.remove();
    rmSync(lockDir, { recursive: true, force: true });
  }
  const loadAfter = execFileSync("uptime", { encoding: "utf8" }).trim();
  const summary = (rounds: Round[]) => ({
    pulledMs: round(median(rounds.map((r) => r.pulledMs)), 1),
    firstReadyMs: round(median(rounds.map((r) => r.firstReadyMs)), 1),
    allReadyMs: round(median(rounds.map((r) => r.allReadyMs)), 1),
    manifests: median(rounds.map((r) => r.manifests)),
    blobs: median(rounds.map((r) => r.blobs)),
  });
  const b = summary(results.berth);
  const r = summary(results.raw);
  printTable(
    `${WORKERS} concurrent ups of an absent image (${LAYER_MB} MB layer on busybox) from a loopback registry, median of ${ROUNDS} rounds`,
    [
      "side",
      "image pulled (ms)",
      "first ready (ms)",
      `all ${WORKERS} ready (ms)`,
      "manifest requests",
      "blob requests",
    ],
    [
      ["berth (8 up() in one process)", b.pulledMs, b.firstReadyMs, b.allReadyMs, b.manifests, b.blobs],
      [
        "raw (8 parallel pulls, create, start)",
        r.pulledMs,
        r.firstReadyMs,
        r.allReadyMs,
        r.manifests,
        r.blobs,
      ],
      [
        "ratio berth/raw",
        ratio(b.pulledMs, r.pulledMs),
        ratio(b.firstReadyMs, r.firstReadyMs),
        ratio(b.allReadyMs, r.allReadyMs),
        "",
        "",
      ],
    ],
  );
  process.stdout.write(`load after: ${loadAfter}\n`);
  printJson(
    "pull",
    {
      ...(await benchEnv(engine)),
      rounds: ROUNDS,
      workers: WORKERS,
      layerMb: LAYER_MB,
      loadBefore,
      loadAfter,
    },
    { berth: b, raw: r, rounds: results },
    {
      first_ready_vs_raw: { value: ratio(b.firstReadyMs, r.firstReadyMs), goal: "<= 1.0" },
      pulled_vs_raw: { value: ratio(b.pulledMs, r.pulledMs), goal: "<= 1.0" },
      manifest_requests_per_round_berth: { value: b.manifests, goal: "== 1" },
    },
  );
}

// bench/lifecycle: create, start and safe removal of a SIGTERM-handling fixture container,
// through berth (guarded engine) and through raw Engine API calls over the same socket,
// alternating rounds.
import type { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { createEngine } from "../src/guard/guard.js";
import { safeRemove } from "../src/lifecycle/safe-remove.js";
import { benchEnv, benchLabels, median, printJson, printTable, raw, round } from "./support.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const CMD = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];
/** tini as PID 1: SIGTERM reaches the shell even before its trap is set, so no stop waits out the grace. */
const HOST = { Init: true };
const LABELS = benchLabels("lifecycle", String(process.pid));

interface Round {
  create: number;
  start: number;
  remove: number;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await work();
  return [value, performance.now() - t0];
}

async function rawRound(socketPath: string, image: string, name: string): Promise<Round> {
  const [created, create] = await timed(() =>
    raw(socketPath, "POST", `/containers/create?name=${name}`, {
      Image: image,
      Cmd: CMD,
      Labels: LABELS,
      HostConfig: HOST,
    }),
  );
  if (created.status !== 201) throw new Error(`raw create: ${created.status} ${created.body}`);
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const [, start] = await timed(() => raw(socketPath, "POST", `/containers/${id}/start`));
  const [, remove] = await timed(async () => {
    await raw(socketPath, "POST", `/containers/${id}/stop?t=10`);
    const res = await raw(socketPath, "DELETE", `/containers/${id}?v=1`);
    if (res.status !== 204) throw new Error(`raw remove: ${res.status} ${res.body}`);
  });
  return { create, start, remove };
}

async function berthRound(engine: Engine, image: string, name: string): Promise<Round> {
  const [{ id }, create] = await timed(() =>
    engine.createContainer({ name, Image: image, Cmd: CMD, Labels: LABELS, HostConfig: HOST }),
  );
  const [, start] = await timed(() => engine.startContainer(id));
  const [, remove] = await timed(() => safeRemove(engine, id));
  return { create, start, remove };
}

export default async function lifecycle(): Promise<void> {
  // berth as users get it: the guarded engine (adaptive limiter, retries, metrics).
  const engine = createEngine();
  if (engine.endpoint.kind !== "unix")
    throw new Error("bench/lifecycle compares against raw calls on a unix socket");
  const socketPath = engine.endpoint.socketPath;
  const image = (await ensureBusyboxFixture(engine)).ref;
  const berth: Round[] = [];
  const rawRounds: Round[] = [];
  // One warm-up of each, not counted.
  await berthRound(engine, image, `berth-bench-warm-b-${process.pid}`);
  await rawRound(socketPath, image, `berth-bench-warm-r-${process.pid}`);
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which goes first so drift in the daemon's speed falls on both alike.
    const order = i % 2 === 0 ? ["berth", "raw"] : ["raw", "berth"];
    for (const who of order) {
      const name = `berth-bench-${who}-${process.pid}-${i}`;
      if (who === "berth") berth.push(await berthRound(engine, image, name));
      else rawRounds.push(await rawRound(socketPath, image, name));
    }
  }
  const steps = ["create", "start", "remove"] as const;
  const figures: Record<string, number> = {};
  const rows: (string | number)[][] = steps.map((step) => {
    const b = median(berth.map((r) => r[step]));
    const r = median(rawRounds.map((x) => x[step]));
    figures[`berth_${step}_p50_ms`] = round(b, 1);
    figures[`raw_${step}_p50_ms`] = round(r, 1);
    figures[`${step}_ratio`] = round(b / r, 3);
    return [step, b, r, round(b / r, 3)];
  });
  const totalB = median(berth.map((r) => r.create + r.start + r.remove));
  const totalR = median(rawRounds.map((r) => r.create + r.start + r.remove));
  figures.berth_total_p50_ms = round(totalB, 1);
  figures.raw_total_p50_ms = round(totalR, 1);
  figures.total_ratio = round(totalB / totalR, 3);
  figures.rounds = ROUNDS;
  rows.push(["total", totalB, totalR, round(totalB / totalR, 3)]);
  printTable(`lifecycle: medians over ${ROUNDS} rounds (ms)`, ["step", "berth", "raw", "ratio"], rows);
  printJson("lifecycle", await benchEnv(engine), figures, {
    create_ratio: { value: figures.create_ratio!, goal: "<= 1.10" },
    start_ratio: { value: figures.start_ratio!, goal: "<= 1.10" },
    remove_ratio: { value: figures.remove_ratio!, goal: "<= 1.10" },
    total_ratio: { value: figures.total_ratio!, goal: "<= 1.10" },
  });
}

// The reaper's promise under the worst death: the owner is SIGKILLed in the middle of bringing up
// a 3-service environment (five runs, each killed at a different step). Within 10 s nothing of the
// session may remain, and the watchdog exits. The owner-death-to-clean times are printed.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type OwnerEvent,
  type OwnerProcess,
  sessionResources,
  startOwner,
  waitForProcessExit,
  waitUntilClean,
} from "./janitor-support.js";
import { engine, fixtureImage } from "./support.js";

const logDir = mkdtempSync(join(tmpdir(), "berth-reaper-kill-"));
const reaperLog = join(logDir, "reaper.log");

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

// Where in the bring-up the owner is killed: every run a different moment.
const killPoints: { label: string; match: (e: OwnerEvent) => boolean }[] = [
  { label: "after the network", match: (e) => e.event === "network" },
  { label: "after creating db", match: (e) => e.event === "created" && e.service === "db" },
  { label: "after starting cache", match: (e) => e.event === "started" && e.service === "cache" },
  { label: "after creating api", match: (e) => e.event === "created" && e.service === "api" },
  { label: "when all three run", match: (e) => e.event === "up" },
];

const runs: { point: string; session: string; owner?: OwnerProcess }[] = killPoints.map((p) => ({
  point: p.label,
  session: `rk${randomUUID().replace(/-/g, "").slice(0, 10)}`,
}));
const deathToClean: number[] = [];

afterAll(async () => {
  // An owner still running here belongs to a failed run; its watchdog cleans up after it.
  for (const run of runs) if (run.owner && run.owner.child.exitCode === null) run.owner.child.kill("SIGKILL");
  if (deathToClean.length > 0) {
    const ms = deathToClean.map(Math.round);
    process.stdout.write(
      `Reaper: owner death to clean state (ms), ${ms.length} runs: ${ms.join(", ")}; median ${Math.round(median(ms))}\n`,
    );
  }
  rmSync(logDir, { recursive: true, force: true });
});

const prestart = (index: number) => {
  const run = runs[index];
  if (run && !run.owner)
    run.owner = startOwner([fixtureImage(), run.session, "kill"], { BERTH_REAPER_LOG: reaperLog });
};

// One run at a time, so each measurement is the reaper's own and not five reapers and bring-ups
// competing; the next owner starts up (tsx, imports) while the current run is measured.
// Generous timeouts: on a loaded machine a bring-up alone can take a minute; the bound under test
// is the 10 s from owner death to a clean state, asserted on its own.
describe.sequential("SIGKILL of the owner in the middle of bringing up 3 services", {
  timeout: 300_000,
}, () => {
  for (const [index, point] of killPoints.entries()) {
    it(`run ${index + 1}/5, killed ${point.label}: nothing of the session remains within 10 s`, async () => {
      prestart(index);
      prestart(index + 1);
      const { owner, session } = runs[index] as { owner: OwnerProcess; session: string };
      await owner.waitFor((e) => e.event === "waiting");
      owner.go();
      const guarded = await owner.waitFor((e) => e.event === "guarded");
      expect(guarded.watchdog).toBeGreaterThan(0);
      await owner.waitFor(point.match);
      expect((await sessionResources(engine, session)).length).toBeGreaterThan(0);

      owner.child.kill("SIGKILL");
      const diedAt = performance.now();
      expect((await owner.exited).signal).toBe("SIGKILL");

      const { cleanAt, remaining } = await waitUntilClean(engine, session, {
        timeoutMs: 15_000,
        stableMs: 1_500,
      });
      if (cleanAt === undefined) {
        throw new Error(
          `still present: ${remaining.map((r) => `${r.kind} ${r.name}`).join(", ")}\nreaper log:\n${readFileSync(reaperLog, "utf8")}`,
        );
      }
      deathToClean.push(cleanAt - diedAt);
      if (cleanAt - diedAt >= 10_000) {
        const log = readFileSync(reaperLog, "utf8")
          .split("\n")
          .filter((line) => line.includes(session));
        throw new Error(
          `clean only after ${Math.round(cleanAt - diedAt)} ms; reaper log:\n${log.join("\n")}`,
        );
      }
      // Its work done, the watchdog exits.
      expect(await waitForProcessExit(guarded.watchdog!, 10_000)).toBe(true);
    });
  }
});

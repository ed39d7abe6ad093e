// The reaper watchdog's other promises: a normal exit leaves no process behind, one watchdog serves
// all sessions of a process (and, for a moment after the last one, the next), and the opt-outs
// (BERTH_REAPER=off, keep).
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WATCHDOG_LINGER_MS, watchdogPid } from "../../src/janitor/reaper.js";
import { removeResources } from "../../src/janitor/remove.js";
import { createSession } from "../../src/janitor/session.js";
import {
  processExists,
  sessionResources,
  startOwner,
  startTestScript,
  waitForProcessExit,
  waitUntilClean,
} from "./janitor-support.js";
import { engine, fixtureImage } from "./support.js";

const logDir = mkdtempSync(join(tmpdir(), "berth-reaper-test-"));
const reaperLog = join(logDir, "reaper.log");
const ownerEnv = { BERTH_REAPER_LOG: reaperLog };
const sessionId = () => `rp${randomUUID().replace(/-/g, "").slice(0, 10)}`;

afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe("reaper watchdog", { timeout: 300_000 }, () => {
  it("normal exit: the session ends, the owner exits by itself, and no watchdog process is left", async () => {
    const session = sessionId();
    const owner = startOwner([fixtureImage(), session, "exit"], ownerEnv);
    owner.go();
    const guarded = await owner.waitFor((e) => e.event === "guarded");
    await owner.waitFor((e) => e.event === "ended");
    expect((await owner.exited).code).toBe(0);
    expect(await waitForProcessExit(guarded.watchdog!, 5_000)).toBe(true);
    expect(await sessionResources(engine, session)).toEqual([]);
    expect(readFileSync(reaperLog, "utf8")).toMatch(
      new RegExp(`watchdog ${guarded.watchdog} .*no session guarded, exiting`),
    );
  });

  // The watchdog also ends when it finds its owner gone (while a descendant may hold the pipe
  // open). A watchdog that is not scheduled while its owner detaches and exits can see the owner
  // gone before it has read the release waiting in the pipe: SIGSTOP/SIGCONT makes that happen
  // every time. Its holder's owner check (a separate process, not stopped) then signals it, and
  // it hands over to the Node watchdog with the release still in the pipe, which must honour it.
  it("a release still in the pipe when the watchdog sees its owner gone is honoured, not reaped", async () => {
    const session = sessionId();
    const owner = startTestScript("janitor-owner.ts", [fixtureImage(), session, "detach-late"], ownerEnv);
    try {
      owner.go();
      const guarded = await owner.waitFor((e) => e.event === "guarded");
      await owner.waitFor((e) => e.event === "up");
      process.kill(guarded.watchdog!, "SIGSTOP");
      try {
        process.kill(guarded.pid!, "SIGUSR2");
        // Bounded, so that the watchdog is continued whatever the owner does.
        const exited = await Promise.race([
          owner.exited,
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 60_000)),
        ]);
        expect(exited?.code, owner.stderr()).toBe(0);
        expect(owner.events.some((e) => e.event === "detached")).toBe(true);
        // Past the watchdog's next once-a-second owner check while it cannot read.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      } finally {
        process.kill(guarded.watchdog!, "SIGCONT");
      }
      expect(await waitForProcessExit(guarded.watchdog!, 10_000)).toBe(true);
      expect(await sessionResources(engine, session)).toHaveLength(4);
      expect(readFileSync(reaperLog, "utf8")).not.toMatch(new RegExp(`reaping ${session}`));
    } finally {
      owner.child.kill("SIGKILL");
      await removeResources(engine, await sessionResources(engine, session), { maxGraceSeconds: 2 });
    }
  });

  it("one watchdog serves all sessions of a process, stays for the next one, and exits when none comes", async () => {
    const a = createSession(engine);
    const b = createSession(engine);
    await a.beforeCreate();
    await b.beforeCreate();
    const pid = watchdogPid();
    expect(pid).toBeGreaterThan(0);
    expect(a.guarded && b.guarded).toBe(true);
    await a.end();
    expect(watchdogPid()).toBe(pid);
    expect(processExists(pid!)).toBe(true);
    await b.end();
    // No session left: it stays a moment, and the process's next session goes to it.
    expect(watchdogPid()).toBe(pid);
    const c = createSession(engine);
    await c.beforeCreate();
    expect(c.guarded).toBe(true);
    expect(watchdogPid()).toBe(pid);
    await c.end();
    // None came after the last: it exits on its own (bounded generously, not timed).
    expect(await waitForProcessExit(pid!, WATCHDOG_LINGER_MS + 10_000)).toBe(true);
    expect(watchdogPid()).toBeUndefined();
  });

  it("a watchdog kept after a session ended guards the next one: its owner killed, that session is reaped", async () => {
    const session = sessionId();
    const owner = startTestScript(
      "janitor-owner.ts",
      [fixtureImage(), session, "kill", "--after-ended-session"],
      ownerEnv,
    );
    try {
      owner.go();
      const first = await owner.waitFor((e) => e.event === "first-ended");
      const guarded = await owner.waitFor((e) => e.event === "guarded");
      expect(guarded.watchdog).toBe(first.watchdog);
      await owner.waitFor((e) => e.event === "up");
      expect(await sessionResources(engine, session)).toHaveLength(4);
      owner.child.kill("SIGKILL");
      expect((await owner.exited).signal).toBe("SIGKILL");
      const { cleanAt, remaining } = await waitUntilClean(engine, session, {
        timeoutMs: 20_000,
        stableMs: 1_000,
      });
      expect(
        cleanAt,
        `still present: ${remaining.map((r) => `${r.kind} ${r.name}`).join(", ")}\n${readFileSync(reaperLog, "utf8")}`,
      ).toBeDefined();
      expect(await waitForProcessExit(guarded.watchdog!, 10_000)).toBe(true);
    } finally {
      owner.child.kill("SIGKILL");
      await removeResources(engine, await sessionResources(engine, session), { maxGraceSeconds: 2 });
    }
  });

  it("BERTH_REAPER=off and keep start no watchdog; detach needs a detachable session", async () => {
    const previous = process.env.BERTH_REAPER;
    process.env.BERTH_REAPER = "off";
    try {
      const off = createSession(engine);
      await off.beforeCreate();
      expect(off.guarded).toBe(false);
      expect(watchdogPid()).toBeUndefined();
    } finally {
      if (previous === undefined) delete process.env.BERTH_REAPER;
      else process.env.BERTH_REAPER = previous;
    }
    const kept = createSession(engine, { keep: true });
    await kept.beforeCreate();
    expect(kept.guarded).toBe(false);
    expect(watchdogPid()).toBeUndefined();

    const plain = createSession(engine, { reaper: false });
    await expect(plain.detach()).rejects.toMatchObject({ code: "BERTH_SESSION_STATE" });
    await plain.end();
    await expect(plain.beforeCreate()).rejects.toMatchObject({ code: "BERTH_SESSION_STATE" });
  });
});

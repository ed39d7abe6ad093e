// The errors a down (or an up's rollback) ends with: what a failed removal says when nothing is
// left, and how long berth says it waited for a daemon that went away.
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { awaitDaemon, wentAwayError } from "../../src/stack/daemon-gone.js";
import { DownIncompleteError } from "../../src/stack/down.js";

describe("DownIncompleteError", () => {
  it("says which removals failed when nothing is left behind", () => {
    const error = new DownIncompleteError("project p", [], ["volume v: volume is in use"]);
    expect(error.message).toBe(
      "Taking project p down left nothing behind, and 1 removal(s) failed:\n  volume v: volume is in use",
    );
    expect(error.toJSON()).toMatchObject({ remaining: [], failures: ["volume v: volume is in use"] });
  });

  it("lists what is left", () => {
    const error = new DownIncompleteError("project p", ["network n"], []);
    expect(error.message).toBe("Taking project p down left 1 resource(s) behind: network n");
  });
});

describe("a daemon that went away", () => {
  const engine = new Engine({ dockerHost: "unix:///nonexistent/berth-test.sock" });

  it("quotes the wait it was given", () => {
    const error = wentAwayError(engine, "down", new Error("EOF"), {
      back: false,
      waitedMs: 5_000,
      done: false,
    });
    expect(error.message).toContain("it did not answer again within 5 s");
  });

  // With the default bound (30 s) this would outlast the test's timeout.
  it("is waited for only as long as asked", { timeout: 5_000 }, async () => {
    expect(await awaitDaemon(engine, 400)).toBeUndefined();
  });

  it("rejects when its signal aborts", async () => {
    const signal = AbortSignal.timeout(100);
    await expect(awaitDaemon(engine, 10_000, signal)).rejects.toBeDefined();
  });
});

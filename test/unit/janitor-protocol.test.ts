import { describe, expect, it } from "vitest";
import { reapGraceFromEnv } from "../../src/janitor/reap.js";
import { reaperDisabledByEnv } from "../../src/janitor/reaper.js";
import {
  applyMessage,
  encodeMessage,
  type GuardEntry,
  parseMessage,
} from "../../src/janitor/watchdog-protocol.js";

describe("watchdog protocol", () => {
  it("round-trips guard and release messages as single lines", () => {
    const guard = { op: "guard", session: "s1", dockerHost: "unix:///var/run/docker.sock" } as const;
    const line = encodeMessage(guard);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.trimEnd()).not.toContain("\n");
    expect(parseMessage(line)).toEqual(guard);
    expect(parseMessage(encodeMessage({ op: "release", session: "s1" }))).toEqual({
      op: "release",
      session: "s1",
    });
  });

  it("ignores malformed lines instead of failing", () => {
    for (const bad of [
      "",
      "{",
      "null",
      '{"op":"guard","session":"s1"}',
      '{"op":"drop","session":"s"}',
      '{"op":"release"}',
    ]) {
      expect(parseMessage(bad)).toBeUndefined();
    }
  });

  it("keeps the book of guarded sessions: guard adds, release removes, repeats are harmless", () => {
    const book = new Map<string, GuardEntry>();
    applyMessage(book, { op: "guard", session: "a", dockerHost: "unix:///a.sock" });
    applyMessage(book, { op: "guard", session: "b", dockerHost: "unix:///b.sock" });
    applyMessage(book, { op: "release", session: "a" });
    applyMessage(book, { op: "release", session: "a" });
    expect([...book]).toEqual([["b", { dockerHost: "unix:///b.sock" }]]);
  });

  it("books a lease to release (not reap) on the owner's death, and parses it back", () => {
    const lease = {
      session: "s1",
      project: "app-s1",
      image: "sha256:abc",
      labels: { "berth.session": "s1" },
      generation: 3,
      containerId: "c1",
    };
    const message = { op: "lease", session: "lease:s1", dockerHost: "unix:///a.sock", lease } as const;
    expect(parseMessage(encodeMessage(message))).toEqual(message);
    expect(
      parseMessage(JSON.stringify({ ...message, lease: { ...lease, generation: "3" } })),
    ).toBeUndefined();
    const book = new Map<string, GuardEntry>();
    applyMessage(book, message);
    expect(book.get("lease:s1")).toEqual({ dockerHost: "unix:///a.sock", lease });
    applyMessage(book, { op: "release", session: "lease:s1" });
    expect(book.size).toBe(0);
  });
});

describe("reaper switch", () => {
  it("BERTH_REAPER=off (or 0, false, no) turns the reaper off; anything else leaves it on", () => {
    for (const off of ["off", "OFF", "0", "false", "no", " off "]) {
      expect(reaperDisabledByEnv({ BERTH_REAPER: off })).toBe(true);
    }
    for (const on of [undefined, "", "on", "1", "true"]) {
      expect(reaperDisabledByEnv({ BERTH_REAPER: on })).toBe(false);
    }
  });
});

describe("reaper grace cap", () => {
  it("defaults to 5 s and takes BERTH_REAPER_GRACE when it is a number of seconds", () => {
    expect(reapGraceFromEnv({})).toBe(5);
    expect(reapGraceFromEnv({ BERTH_REAPER_GRACE: "2" })).toBe(2);
    expect(reapGraceFromEnv({ BERTH_REAPER_GRACE: "0" })).toBe(0);
    expect(reapGraceFromEnv({ BERTH_REAPER_GRACE: "soon" })).toBe(5);
    expect(reapGraceFromEnv({ BERTH_REAPER_GRACE: "-1" })).toBe(5);
  });
});

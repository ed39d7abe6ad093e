import { describe, expect, it } from "vitest";
import { type GcRules, gcVerdict, type SessionFacts } from "../../src/janitor/gc.js";

const HOUR = 3_600_000;
const now = Date.parse("2025-06-01T12:00:00Z");
const facts = (over: Partial<SessionFacts>): SessionFacts => ({
  ownerState: "dead",
  detached: false,
  createdAt: now - 2 * HOUR,
  ...over,
});
const rules = (over: Partial<GcRules> = {}): GcRules => ({ now, ...over });

describe("gc verdicts", () => {
  it("removes a dead owner's session by default", () => {
    expect(gcVerdict(facts({}), rules())).toEqual({ remove: true, reason: "owner-dead" });
  });

  it("never touches a live owner's session, whatever the flags", () => {
    for (const r of [rules(), rules({ all: true }), rules({ olderThanMs: 0 })]) {
      expect(gcVerdict(facts({ ownerState: "alive" }), r)).toEqual({ remove: false, reason: "owner-alive" });
    }
  });

  it("keeps a detached session until --older-than reaches its age or --all", () => {
    const detached = facts({ detached: true });
    expect(gcVerdict(detached, rules())).toEqual({ remove: false, reason: "detached" });
    expect(gcVerdict(detached, rules({ olderThanMs: 3 * HOUR }))).toEqual({
      remove: false,
      reason: "detached",
    });
    expect(gcVerdict(detached, rules({ olderThanMs: HOUR }))).toEqual({ remove: true, reason: "older-than" });
    expect(gcVerdict(detached, rules({ all: true }))).toEqual({ remove: true, reason: "all" });
  });

  it("keeps other hosts' and unreadable owners' sessions unless --all or --older-than", () => {
    expect(gcVerdict(facts({ ownerState: "foreign" }), rules())).toEqual({
      remove: false,
      reason: "foreign-host",
    });
    expect(gcVerdict(facts({ ownerState: "unknown" }), rules())).toEqual({
      remove: false,
      reason: "unknown-owner",
    });
    expect(gcVerdict(facts({ ownerState: "foreign" }), rules({ olderThanMs: HOUR })).remove).toBe(true);
    expect(gcVerdict(facts({ ownerState: "unknown" }), rules({ all: true })).remove).toBe(true);
  });

  it("does not guess the age of a session without a creation label", () => {
    const undated = facts({ ownerState: "foreign", createdAt: undefined });
    expect(gcVerdict(undated, rules({ olderThanMs: 0 })).remove).toBe(false);
  });
});

import { execFileSync } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { currentOwner, formatOwner, LABELS, processStartTime } from "../../src/model/labels.js";
import { isOwnerAlive, isReclaimable, ownerOf, ownerState } from "../../src/model/ownership.js";

/** A pid that existed a moment ago and has exited now. */
function deadPid(): number {
  return Number(execFileSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).trim());
}

describe("owner liveness", () => {
  it("finds this process alive by pid and start time", () => {
    const me = currentOwner();
    expect(ownerState(me)).toBe("alive");
    expect(isOwnerAlive(formatOwner(me))).toBe(true);
    expect(isOwnerAlive({ [LABELS.owner]: formatOwner(me) })).toBe(true);
  });

  it("calls a recycled pid (same pid, other start time) dead", () => {
    const me = currentOwner();
    const recycled = { ...me, startTime: String(Number(me.startTime) + 1) };
    expect(ownerState(recycled)).toBe("dead");
    expect(isOwnerAlive(recycled)).toBe(false);
  });

  it("calls an exited process dead", () => {
    const pid = deadPid();
    expect(processStartTime(pid)).toBeUndefined();
    expect(ownerState({ host: hostname(), pid, startTime: "1" })).toBe("dead");
  });

  it("cannot check another host: foreign, alive unless the caller says otherwise", () => {
    const other = { host: `${hostname()}-elsewhere`, pid: 1, startTime: "1" };
    expect(ownerState(other)).toBe("foreign");
    expect(isOwnerAlive(other)).toBe(true);
    expect(isOwnerAlive(other, { foreignAlive: false })).toBe(false);
  });

  it("treats a missing or unreadable owner label as unknown", () => {
    expect(ownerState({})).toBe("unknown");
    expect(ownerState("not an owner")).toBe("unknown");
    expect(isOwnerAlive(undefined)).toBe(true);
    expect(isOwnerAlive(undefined, { foreignAlive: false })).toBe(false);
  });

  it("reads the owner from labels, a label value or an identity", () => {
    const me = currentOwner();
    expect(ownerOf({ [LABELS.owner]: formatOwner(me) })).toEqual(me);
    expect(ownerOf(formatOwner(me))).toEqual(me);
    expect(ownerOf(me)).toBe(me);
  });

  it("reclaims a dead owner's resource only when its session was not detached", () => {
    const dead = formatOwner({ host: hostname(), pid: deadPid(), startTime: "1" });
    expect(isReclaimable({ [LABELS.owner]: dead })).toBe(true);
    expect(isReclaimable({ [LABELS.owner]: dead, [LABELS.detached]: "true" })).toBe(false);
    expect(isReclaimable({ [LABELS.owner]: formatOwner(currentOwner()) })).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import {
  formatLabelSelector,
  LABELS,
  matchesSelector,
  parseLabelSelector,
  sessionFilter,
  sessionLabels,
} from "../../src/model/labels.js";

describe("session labels", () => {
  const owner = { host: "ci-7", pid: 4242, startTime: "123456" };
  const createdAt = new Date("2025-01-02T03:04:05.000Z");

  it("carry session, project, service, owner and creation time", () => {
    const labels = sessionLabels({
      session: "s1",
      project: "p1",
      service: "db",
      owner,
      createdAt,
      extra: {},
    });
    expect(labels).toMatchObject({
      [LABELS.session]: "s1",
      [LABELS.project]: "p1",
      [LABELS.service]: "db",
      [LABELS.owner]: "ci-7/4242/123456",
      [LABELS.created]: "2025-01-02T03:04:05.000Z",
    });
    expect(labels[LABELS.detached]).toBeUndefined();
  });

  it("mark a detachable session's resources from the start", () => {
    const labels = sessionLabels({ session: "s1", owner, createdAt, detachable: true });
    expect(labels[LABELS.detached]).toBe("true");
  });

  it("select one session by label filter", () => {
    expect(sessionFilter("abc")).toEqual({ label: ["berth.session=abc"] });
  });
});

describe("label selectors", () => {
  it("parse key=value and bare keys, and refuse empty keys", () => {
    expect(parseLabelSelector("berth.suite=s-1")).toEqual({ key: "berth.suite", value: "s-1" });
    expect(parseLabelSelector("a=b=c")).toEqual({ key: "a", value: "b=c" });
    expect(parseLabelSelector("berth.session")).toEqual({ key: "berth.session" });
    expect(parseLabelSelector("=x")).toBeUndefined();
    expect(parseLabelSelector(" ")).toBeUndefined();
  });

  it("format back to the Engine API filter form", () => {
    expect(formatLabelSelector({ key: "k", value: "v" })).toBe("k=v");
    expect(formatLabelSelector({ key: "k" })).toBe("k");
  });

  it("match on the value, or on the key alone", () => {
    expect(matchesSelector({ k: "v" }, { key: "k", value: "v" })).toBe(true);
    expect(matchesSelector({ k: "w" }, { key: "k", value: "v" })).toBe(false);
    expect(matchesSelector({ k: "" }, { key: "k" })).toBe(true);
    expect(matchesSelector({}, { key: "k" })).toBe(false);
  });
});

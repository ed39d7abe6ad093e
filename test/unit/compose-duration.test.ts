import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { formatDuration, parseDuration } from "../../src/model/duration.js";

describe("parseDuration", () => {
  it.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["2h45m", 9_900_000],
    ["250us", 0],
    ["1500us", 2],
    ["0", 0],
    [0, 0],
    [" 5s ", 5000],
  ] as const)("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["10", "soon", "", "-5s", "5 s", "1d", "s", "1m30"])("refuses %j", (text) => {
    expect(() => parseDuration(text)).toThrow(ConfigError);
  });

  it("asks for a unit on bare numbers and names the value and place", () => {
    expect(() => parseDuration(10, { where: "compose.yml: services.api.stop_grace_period" })).toThrow(
      "compose.yml: services.api.stop_grace_period: invalid duration `10` (a unit is required)",
    );
  });

  it("says negative durations are refused", () => {
    expect(() => parseDuration("-1s")).toThrow(/cannot be negative/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [3_661_001, "1h1m1s1ms"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

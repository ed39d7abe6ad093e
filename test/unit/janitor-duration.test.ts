import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { formatAge, parseDuration } from "../../src/janitor/duration.js";

describe("durations", () => {
  it("parse single and compound units", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("0")).toBe(0);
  });

  it("refuse values without a unit or with junk, naming the value", () => {
    for (const bad of ["10", "abc", "1h junk", "", "-5m", "5 m"]) {
      const error = (() => {
        try {
          parseDuration(bad, "--older-than");
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(`\`${bad}\``);
      expect((error as ConfigError).message).toContain("--older-than");
    }
  });

  it("format ages briefly", () => {
    expect(formatAge(45_000)).toBe("45s");
    expect(formatAge(12 * 60_000)).toBe("12m");
    expect(formatAge(3 * 3_600_000)).toBe("3h");
    expect(formatAge(3 * 86_400_000)).toBe("3d");
  });
});

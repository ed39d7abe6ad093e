import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { formatAge, parseDuration } from "../../src/model/duration.js";
import { caught } from "../support/caught.js";

describe("durations as ages (days: true)", () => {
  const age = (text: string) => parseDuration(text, { days: true });
  it("parse single and compound units", () => {
    expect(age("90s")).toBe(90_000);
    expect(age("15m")).toBe(900_000);
    expect(age("2h")).toBe(7_200_000);
    expect(age("7d")).toBe(604_800_000);
    expect(age("1h30m")).toBe(5_400_000);
    expect(age("500ms")).toBe(500);
    expect(age("1.5h")).toBe(5_400_000);
    expect(age("0")).toBe(0);
    expect(age("2H")).toBe(7_200_000);
    expect(age("1w2d")).toBe(777_600_000);
  });

  it("days and weeks are ages only: Compose durations refuse them", () => {
    expect(() => parseDuration("7d")).toThrow(ConfigError);
    expect(() => parseDuration("1w", { where: "compose.yml: services.api.stop_grace_period" })).toThrow(
      "compose.yml: services.api.stop_grace_period: invalid duration `1w`",
    );
    expect(() => parseDuration("2H")).toThrow(ConfigError);
  });

  it("refuse values without a unit or with junk, naming the value", () => {
    for (const bad of ["10", "abc", "1h junk", "", "-5m", "5 m"]) {
      const error = caught<ConfigError>(() => parseDuration(bad, { where: "--older-than", days: true }));
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

import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { CATEGORIES, selectCategories } from "../../src/validate/catalogue.js";

const all = CATEGORIES.flatMap((c) => c.scenarios);

describe("the scenario catalogue", () => {
  it("has at least 50 scenarios with unique ids named after their category", () => {
    expect(all.length).toBeGreaterThanOrEqual(50);
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
    for (const category of CATEGORIES) {
      for (const s of category.scenarios) {
        expect(s.category).toBe(category.id);
        expect(s.id.startsWith(`${category.id}.`)).toBe(true);
        expect(s.title.length).toBeGreaterThan(10);
      }
    }
  });

  it("covers every category the issue names", () => {
    expect(CATEGORIES.map((c) => c.id)).toEqual([
      "lifecycle",
      "safe-removal",
      "rate-limiting",
      "memory",
      "concurrency",
      "networks",
      "conflicts",
      "health",
      "cleanup",
      "proxy",
      "reference-stack",
    ]);
  });

  it("has a quick subset touching every default category, smaller than the full run", () => {
    const quick = all.filter((s) => s.quick);
    expect(quick.length).toBeGreaterThan(15);
    expect(quick.length).toBeLessThan(all.length / 1.5);
    for (const c of CATEGORIES.filter((c) => !c.optional)) {
      expect(c.scenarios.some((s) => s.quick)).toBe(true);
    }
  });
});

describe("every scenario's fault (berth validate --prove)", () => {
  it("is declared next to its check, with a description and an expected failure", () => {
    for (const s of all) {
      expect(s.fault, s.id).toBeDefined();
      expect(["relay", "setup"], s.id).toContain(s.fault.kind);
      expect(s.fault.describe.length, s.id).toBeGreaterThan(15);
      expect(s.fault.expect, s.id).toBeInstanceOf(RegExp);
      // A pattern that matches anything would prove nothing.
      expect(s.fault.expect.test(""), s.id).toBe(false);
      expect(s.fault.expect.test("some unrelated failure"), s.id).toBe(false);
    }
  });

  it("changes what the scenario runs against: relay rules, or a setup the scenario reads", () => {
    for (const s of all) {
      if (s.fault.kind === "relay") {
        expect(s.fault.rules.length, s.id).toBeGreaterThan(0);
        for (const rule of s.fault.rules) {
          const changes = [rule.answer, rule.request, rule.json, rule.keepLine].filter(Boolean);
          expect(changes.length, `${s.id}: a rule that changes nothing`).toBeGreaterThan(0);
        }
      } else {
        // A setup fault only exists if the scenario sets itself up differently under it.
        expect(s.run.toString(), s.id).toMatch(/ctx\.faulted/);
      }
    }
  });
});

describe("selectCategories", () => {
  it("runs every category but the optional ones by default", () => {
    const ids = selectCategories().map((c) => c.id);
    expect(ids).not.toContain("reference-stack");
    expect(ids).toHaveLength(CATEGORIES.length - 1);
  });

  it("keeps the catalogue's order and includes an optional category when named", () => {
    expect(selectCategories(["reference-stack", "lifecycle"]).map((c) => c.id)).toEqual([
      "lifecycle",
      "reference-stack",
    ]);
  });

  it("refuses an unknown category with a usage error listing the choices", () => {
    let error: unknown;
    try {
      selectCategories(["lifecycle", "nope"]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    expect((error as ConfigError).message).toBe("unknown validation category `nope`");
    expect((error as ConfigError).hint).toContain("lifecycle, safe-removal, rate-limiting");
  });
});

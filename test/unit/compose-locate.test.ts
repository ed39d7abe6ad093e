import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatPath, locate } from "../../src/stack/compose/index.js";
import { FIXTURES, projectDir } from "./compose-support.js";

const STACK = join(FIXTURES, "good", "busybox-stack.yml");

describe("locate", () => {
  it("points at the key of a map entry and at a list item", () => {
    expect(locate(STACK, ["services", "migrate"])).toEqual({ line: 30, column: 3 });
    expect(locate(STACK, ["services", "migrate", "mem_limit"])).toEqual({ line: 33, column: 5 });
    expect(locate(STACK, ["services", "api", "ports", 0])).toEqual({ line: 41, column: 9 });
  });

  it("follows aliases and merge keys to where an inherited value is written", () => {
    // db's mem_limit comes from the x-httpd anchor through `<<: *httpd`.
    expect(locate(STACK, ["services", "db", "mem_limit"])).toEqual({ line: 20, column: 3 });
    expect(locate(STACK, ["services", "db", "healthcheck", "interval"])).toEqual({ line: 17, column: 5 });
  });

  it("falls back to the deepest ancestor that exists", () => {
    expect(locate(STACK, ["services", "migrate", "no_such_key"])).toEqual({ line: 30, column: 3 });
    expect(locate(STACK, ["services", "api", "ports", 9])).toEqual({ line: 40, column: 5 });
  });

  it("is undefined for files that cannot be read or hold nothing", () => {
    expect(locate(join(FIXTURES, "nope.yml"), ["services"])).toBeUndefined();
    expect(locate(join(FIXTURES, "bad", "empty.yml"), ["services"])).toBeUndefined();
  });

  it("sees a file change (no stale cache)", () => {
    const dir = projectDir({ "c.yml": "services:\n  a:\n    image: x\n" });
    const file = join(dir, "c.yml");
    expect(locate(file, ["services", "a", "image"])).toEqual({ line: 3, column: 5 });
    writeFileSync(file, "# moved\n\nservices:\n  a:\n    image: x\n    # longer now\n");
    expect(locate(file, ["services", "a", "image"])).toEqual({ line: 5, column: 5 });
  });
});

describe("formatPath", () => {
  it("writes paths as people read them", () => {
    expect(formatPath(["services", "api", "ports", 1])).toBe("services.api.ports[1]");
    expect(formatPath(["services", "api", "labels", "com.example"])).toBe(
      'services.api.labels["com.example"]',
    );
    expect(formatPath(["services", "my api"])).toBe('services["my api"]');
    expect(formatPath([])).toBe("");
  });
});

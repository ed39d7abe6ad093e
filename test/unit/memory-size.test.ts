import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import {
  formatComposeSize,
  formatSize,
  MIN_MEMORY_BYTES,
  parseSize,
  roundUpToCleanSize,
} from "../../src/memory/size.js";
import { caught } from "../support/caught.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe("parseSize", () => {
  it.each([
    ["1073741824", GiB],
    [1073741824, GiB],
    ["0", 0],
    ["17b", 17],
    ["300k", 300 * 1024],
    ["300KB", 300 * 1024],
    ["512m", 512 * MiB],
    ["512MB", 512 * MiB],
    ["512Mb", 512 * MiB],
    ["1.5g", 1.5 * GiB],
    ["1.5G", 1.5 * GiB],
    ["2gb", 2 * GiB],
    [".5g", 0.5 * GiB],
    ["512 MiB", 512 * MiB],
    ["1.5 GiB", 1.5 * GiB],
  ])("reads %j as %d bytes", (value, bytes) => {
    expect(parseSize(value)).toBe(bytes);
  });

  it.each(["2GBB", "1x", "m", "", "1.2.3m", "ten", "1e3"])("refuses %j naming the value", (value) => {
    expect(() => parseSize(value, { where: "compose.yml: services.api.mem_limit" })).toThrow(ConfigError);
    expect(() => parseSize(value, { where: "compose.yml: services.api.mem_limit" })).toThrow(
      `compose.yml: services.api.mem_limit: invalid size \`${value}\``,
    );
  });

  it("refuses negative sizes saying so", () => {
    expect(() => parseSize("-1m")).toThrow(/cannot be negative/);
    expect(() => parseSize(-1)).toThrow(/invalid size/);
  });

  it("refuses memory limits below Docker's 6 MiB minimum", () => {
    expect(() => parseSize("5m", { memory: true })).toThrow(/below Docker's minimum of 6 MiB/);
    expect(parseSize("6m", { memory: true })).toBe(MIN_MEMORY_BYTES);
    expect(parseSize("5m")).toBe(5 * MiB);
  });

  it("errors are configuration errors (exit 2)", () => {
    const error = caught<ConfigError>(() => parseSize("2GBB"));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(2);
    expect(error.hint).toMatch(/512m/);
  });
});

describe("formatSize", () => {
  it.each([
    [17, "17 B"],
    [300 * 1024, "300 KiB"],
    [64 * MiB, "64 MiB"],
    [512 * MiB, "512 MiB"],
    [1.5 * GiB, "1.5 GiB"],
    [2 * GiB, "2 GiB"],
    [21.37 * MiB, "21.4 MiB"],
    [5.25 * MiB, "5.25 MiB"],
    [123.4 * MiB, "123 MiB"],
  ])("prints %d as %s", (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it("prints what parseSize reads back", () => {
    for (const bytes of [64 * MiB, 512 * MiB, 1.5 * GiB, 300 * 1024]) {
      expect(parseSize(formatSize(bytes))).toBe(bytes);
    }
  });
});

describe("formatComposeSize", () => {
  it.each([
    [2 * GiB, "2g"],
    [768 * MiB, "768m"],
    [1.5 * GiB, "1536m"],
    [300 * 1024, "300k"],
    [1000, "1000"],
  ])("writes %d as %s", (bytes, text) => {
    expect(formatComposeSize(bytes)).toBe(text);
    expect(parseSize(text)).toBe(bytes);
  });
});

describe("roundUpToCleanSize", () => {
  it.each([
    [0, 6],
    [1, 6],
    [6 * MiB, 6],
    [6 * MiB + 1, 8],
    [9 * MiB, 12],
    [13 * MiB, 16],
    [100 * MiB, 128],
    [129 * MiB, 192],
    [513 * MiB, 768],
    [769 * MiB, 1024],
    [1025 * MiB, 1536],
    [2000 * MiB, 2048],
  ])("rounds %d bytes up to %d MiB", (bytes, mib) => {
    expect(roundUpToCleanSize(bytes)).toBe(mib * MiB);
  });

  it("never rounds down and never more than 1.5x above 6 MiB", () => {
    for (let bytes = MiB; bytes < 64 * GiB; bytes = Math.ceil(bytes * 1.37)) {
      const clean = roundUpToCleanSize(bytes);
      expect(clean).toBeGreaterThanOrEqual(bytes);
      if (bytes > 6 * MiB) expect(clean / bytes).toBeLessThanOrEqual(1.5);
    }
  });
});

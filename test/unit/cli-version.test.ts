import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";

afterEach(() => vi.restoreAllMocks());

describe("berth --version", () => {
  it("prints the package's version and exits 0", async () => {
    let stdout = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(await main(["node", "berth", "--version"])).toBe(0);
    expect(stdout.trim()).toBe(version);
  });
});

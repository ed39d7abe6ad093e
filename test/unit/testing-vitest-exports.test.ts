// `berth-docker/vitest` is the one entry point for Vitest users: the environment setup and the other
// globalSetups (guard proxy, leak check) the docs import from it.
import { describe, expect, it } from "vitest";
import { startLeakCheck as leakCheckStart } from "../../src/testing/leak-check.js";
import { proxyGlobalSetup as proxySetup } from "../../src/testing/proxy-setup.js";
import * as berthVitest from "../../src/testing/vitest.js";

describe("berth-docker/vitest", () => {
  it("exports the environment, proxy and leak-check setups", () => {
    const { berthGlobalSetup, useEnvironment, proxyGlobalSetup, proxyDockerHost, leakCheckGlobalSetup } =
      berthVitest;
    for (const fn of [
      berthGlobalSetup,
      useEnvironment,
      proxyGlobalSetup,
      proxyDockerHost,
      leakCheckGlobalSetup,
    ]) {
      expect(typeof fn).toBe("function");
    }
    expect(berthVitest.proxyGlobalSetup).toBe(proxySetup);
    expect(berthVitest.startLeakCheck).toBe(leakCheckStart);
  });

  it("leakCheckGlobalSetup answers a globalSetup function without touching the daemon", () => {
    expect(typeof berthVitest.leakCheckGlobalSetup({ log: null })).toBe("function");
  });
});

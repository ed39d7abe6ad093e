// One guard proxy for a whole Vitest run: every worker (and every docker CLI, Compose or
// Testcontainers call they make) shares its limiter and graceful removal.
//
//   // vitest.config.ts:  test: { globalSetup: ["test/proxy.setup.ts"] }
//   // test/proxy.setup.ts
//   import { proxyGlobalSetup } from "berth-docker/vitest";
//   export default proxyGlobalSetup();
//   // a test
//   import { proxyDockerHost } from "berth-docker/vitest";
//   const engine = new Engine({ dockerHost: proxyDockerHost() });
import { inject } from "vitest";
import type { TestProject } from "vitest/node";
import { type ProxyOptions, startProxy } from "../proxy/server.js";

declare module "vitest" {
  export interface ProvidedContext {
    berthProxy: { dockerHost: string; upstream: string };
  }
}

export interface ProxyGlobalSetupOptions extends ProxyOptions {
  /**
   * Also set DOCKER_HOST to the proxy in the main process, so workers started after the setup
   * inherit it and clients that read it (docker CLI, Compose, Testcontainers) use the proxy
   * without code changes (default true). The previous value is restored at teardown.
   */
  exportEnv?: boolean;
}

/**
 * A Vitest globalSetup: starts the proxy before any test file runs, provides its DOCKER_HOST
 * to the workers, and closes it (removing its socket) when the run ends.
 */
export function proxyGlobalSetup(options: ProxyGlobalSetupOptions = {}) {
  const { exportEnv = true, ...proxyOptions } = options;
  return async function setup(project: TestProject): Promise<() => Promise<void>> {
    const previous = process.env.DOCKER_HOST;
    const proxy = await startProxy(proxyOptions);
    project.provide("berthProxy", { dockerHost: proxy.dockerHost, upstream: proxy.upstream });
    if (exportEnv) process.env.DOCKER_HOST = proxy.dockerHost;
    return async () => {
      if (exportEnv) {
        if (previous === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = previous;
      }
      await proxy.close();
    };
  };
}

/** In a test: the DOCKER_HOST of the proxy the globalSetup started. */
export function proxyDockerHost(): string {
  const provided = inject("berthProxy");
  if (!provided) {
    throw new Error(
      "No berth proxy was provided to this test run: add a globalSetup file with `export default proxyGlobalSetup()` to the Vitest config",
    );
  }
  return provided.dockerHost;
}

// berth for Vitest (`berth-docker/vitest`): a globalSetup that brings an environment up once for the
// run and down at its end, handing it to the tests with provide/inject (and as environment
// variables for code that reads them).
//
//   // vitest.config.ts:  test: { globalSetup: ["test/berth.setup.ts"] }
//   // test/berth.setup.ts
//   import { berthGlobalSetup } from "berth-docker/vitest";
//   export default berthGlobalSetup({ files: ["compose.yml"] });
//   // a test
//   import { useEnvironment } from "berth-docker/vitest";
//   const api = useEnvironment().url("api", 8080, "/health");
import { inject } from "vitest";
import type { TestProject } from "vitest/node";
import type { EnvironmentDescriptor } from "../stack/environment.js";
import { EnvironmentEndpoints } from "../stack/environment.js";
import { exportEnvironment } from "../stack/environment-variables.js";
import { type UpOptions, up } from "../stack/up.js";

// The other globalSetups a run may want beside the environment, from the same entry point: one
// guard proxy for every worker, and a leak check that fails the run if anything is left.
export type { LeakCheckOptions } from "./leak-check.js";
export { leakCheckGlobalSetup, startLeakCheck } from "./leak-check.js";
export type { ProxyGlobalSetupOptions } from "./proxy-setup.js";
export { proxyDockerHost, proxyGlobalSetup } from "./proxy-setup.js";

declare module "vitest" {
  export interface ProvidedContext {
    [key: `berth:${string}`]: EnvironmentDescriptor;
  }
}

export interface BerthGlobalSetupOptions extends UpOptions {
  /** Name under which the environment is provided, for runs with several (default `default`). */
  name?: string;
  /** Also set the endpoints as environment variables for the test workers (default true). */
  exportEnv?: boolean;
}

function provideKey(name: string): `berth:${string}` {
  return `berth:${name}`;
}

/**
 * A Vitest globalSetup function: brings the environment up before any test file runs, provides
 * it to the tests, and takes it down (verified) when the run ends, failed tests or not.
 */
export function berthGlobalSetup(options: BerthGlobalSetupOptions = {}) {
  const { name = "default", exportEnv = true, ...upOptions } = options;
  return async function setup(project: TestProject): Promise<() => Promise<void>> {
    const environment = await up(upOptions);
    project.provide(provideKey(name), environment.toJSON());
    if (exportEnv) exportEnvironment(environment);
    return async () => {
      await environment.down();
    };
  };
}

/** The environment the globalSetup provided, with `endpoint()`, `url()` and `env()`. */
export function useEnvironment(name = "default"): EnvironmentEndpoints {
  const descriptor = inject(provideKey(name));
  if (!descriptor) {
    throw new Error(
      `No berth environment named ${name} was provided: add berthGlobalSetup(${name === "default" ? "" : `{ name: "${name}" }`}) to the Vitest config's globalSetup`,
    );
  }
  return new EnvironmentEndpoints(descriptor);
}

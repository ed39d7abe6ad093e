// berth for Jest (`berth-docker/jest`): a globalSetup that brings an environment up once for the
// run, a globalTeardown that takes it down, and the test side that reads it back. Jest runs both
// hooks in its parent process and hands nothing to the workers but `process.env`, so the setup
// exports the endpoints there (`API_8080=127.0.0.1:49153`, and the whole descriptor as JSON).
// Works in Jest's default CommonJS mode (`require`) and in its ESM mode (`import`).
//
//   // jest.config.js:  globalSetup: "./berth.setup.js", globalTeardown: "./berth.teardown.js"
//   // berth.setup.js
//   module.exports = require("berth-docker/jest").globalSetup({ files: ["compose.yml"] });
//   // berth.teardown.js
//   module.exports = require("berth-docker/jest").globalTeardown();
//   // a test
//   const { useEnvironment } = require("berth-docker/jest");
//   const api = useEnvironment().url("api", 8080, "/health");
import { ConfigError } from "../engine/errors.js";
import type { EnvironmentEndpoints, StartedEnvironment } from "../stack/environment.js";
import {
  ENVIRONMENT_VARIABLE,
  environmentFromEnv,
  environmentVariables,
} from "../stack/environment-variables.js";
import { type UpOptions, up } from "../stack/up.js";

export interface JestGlobalSetupOptions extends UpOptions {
  /** Name of the environment, for runs with several (default `default`). */
  name?: string;
  /**
   * Also set the endpoint variables (`API_8080`, `BERTH_PROJECT`, `BERTH_SESSION`) for the
   * workers (default true). The descriptor `useEnvironment()` reads is always set.
   */
  exportEnv?: boolean;
}

// Jest loads globalSetup and globalTeardown as separate modules (either may be `require`d or
// `import`ed), so the started environments live on the process, not in this module.
const REGISTRY = Symbol.for("berth-docker.jest.environments");

function registry(): Map<string, { environment: StartedEnvironment; variables: string[] }> {
  const holder = globalThis as {
    [REGISTRY]?: Map<string, { environment: StartedEnvironment; variables: string[] }>;
  };
  holder[REGISTRY] ??= new Map();
  return holder[REGISTRY];
}

/** The variable holding a named environment's descriptor: BERTH_ENVIRONMENT, BERTH_ENVIRONMENT_SEARCH, ... */
export function environmentVariableName(name = "default"): string {
  return name === "default"
    ? ENVIRONMENT_VARIABLE
    : `${ENVIRONMENT_VARIABLE}_${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
}

/**
 * A Jest globalSetup function: brings the environment up before the workers start and puts its
 * endpoints in `process.env`, which the workers inherit.
 */
export function globalSetup(options: JestGlobalSetupOptions = {}): () => Promise<void> {
  const { name = "default", exportEnv = true, ...upOptions } = options;
  return async function berthJestGlobalSetup(): Promise<void> {
    if (registry().has(name)) {
      throw new ConfigError(`berth environment ${name} is already up in this Jest run`, {
        hint: "Give each globalSetup environment its own `name`.",
      });
    }
    const environment = await up(upOptions);
    const { [ENVIRONMENT_VARIABLE]: descriptor = "", ...endpoints } = environmentVariables(environment);
    const variables: Record<string, string> = {
      [environmentVariableName(name)]: descriptor,
      ...(exportEnv ? endpoints : {}),
    };
    Object.assign(process.env, variables);
    registry().set(name, { environment, variables: Object.keys(variables) });
  };
}

/**
 * A Jest globalTeardown function: takes down (verified) every environment the globalSetup
 * brought up in this process, failed tests or not, and removes their variables.
 */
export function globalTeardown(): () => Promise<void> {
  return async function berthJestGlobalTeardown(): Promise<void> {
    const started = [...registry()];
    const results = await Promise.allSettled(
      started.map(async ([name, { environment, variables }]) => {
        await environment.down();
        registry().delete(name);
        for (const variable of variables) delete process.env[variable];
      }),
    );
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) throw failed.reason;
  };
}

/** In a test: the environment the globalSetup brought up, with `endpoint()`, `url()` and `env()`. */
export function useEnvironment(name = "default"): EnvironmentEndpoints {
  const variable = environmentVariableName(name);
  if (!process.env[variable]) {
    throw new ConfigError(
      `No berth environment named ${name} was handed to this Jest worker (${variable} is not set)`,
      {
        hint: `Add a globalSetup file with \`module.exports = require("berth-docker/jest").globalSetup(${name === "default" ? "" : `{ name: "${name}" }`})\` to the Jest config`,
      },
    );
  }
  return environmentFromEnv({ [ENVIRONMENT_VARIABLE]: process.env[variable] });
}

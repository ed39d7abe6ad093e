// Hands a started environment to other processes through environment variables: the endpoints
// (`API_8080=127.0.0.1:49153`), the project and session, and the whole descriptor as JSON in
// BERTH_ENVIRONMENT, which `environmentFromEnv()` reads back (Jest workers, `berth run`, node:test).
import { ConfigError } from "../engine/errors.js";
import { type EnvironmentDescriptor, EnvironmentEndpoints } from "./environment.js";

export const ENVIRONMENT_VARIABLE = "BERTH_ENVIRONMENT";

export function environmentVariables(environment: EnvironmentEndpoints): Record<string, string> {
  return {
    BERTH_PROJECT: environment.descriptor.project,
    BERTH_SESSION: environment.descriptor.session,
    [ENVIRONMENT_VARIABLE]: JSON.stringify(environment.descriptor),
    ...environment.env(),
  };
}

/** Reads the environment a parent process exported (`berth run`, a Jest globalSetup). */
export function environmentFromEnv(
  env: Record<string, string | undefined> = process.env,
): EnvironmentEndpoints {
  const raw = env[ENVIRONMENT_VARIABLE];
  if (!raw) {
    throw new ConfigError(
      `${ENVIRONMENT_VARIABLE} is not set: no berth environment was handed to this process`,
      {
        hint: "Start the tests under `berth run -- ...`, or export it from a global setup (exportEnvironment).",
      },
    );
  }
  let descriptor: EnvironmentDescriptor;
  try {
    descriptor = JSON.parse(raw) as EnvironmentDescriptor;
  } catch (error) {
    throw new ConfigError(`${ENVIRONMENT_VARIABLE} is not valid JSON: ${(error as Error).message}`);
  }
  return new EnvironmentEndpoints(descriptor);
}

/** Sets the variables in `process.env`, so processes started from now on (test workers) see them. */
export function exportEnvironment(environment: EnvironmentEndpoints): void {
  Object.assign(process.env, environmentVariables(environment));
}

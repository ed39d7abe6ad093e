// Uses the public API as a TypeScript project would; `tsc --noEmit --strict` without skipLibCheck
// must accept it, and the declarations it reads must be berth's own.
import {
  BerthError,
  ConfigError,
  createEngine,
  defineProject,
  type EnvironmentDescriptor,
  environmentFromEnv,
  guardOf,
  isBerthError,
  type StartedEnvironment,
  safeRemove,
  startProxy,
  type UpOptions,
  up,
} from "berth-docker";
import { globalSetup, globalTeardown, useEnvironment as useJestEnvironment } from "berth-docker/jest";
import { loadPolicyFile, type RunningProxy } from "berth-docker/proxy";
import { renderMarkdown, type ValidationResults } from "berth-docker/validate";
import { berthGlobalSetup, useEnvironment } from "berth-docker/vitest";

const options: UpOptions = { files: ["compose.yml"] };
const spec = defineProject({
  services: { web: { image: "berth-fixture/busybox:1.35.0", ports: [8080] } },
});

export async function run(): Promise<number> {
  const engine = createEngine({ limiter: { mode: "fixed", maxConcurrent: 3 } });
  const metrics: string | undefined = guardOf(engine)?.metrics.render();
  await using env = await up(options);
  const started: StartedEnvironment = await up({ spec });
  const descriptor: EnvironmentDescriptor = started.toJSON();
  const address: string = env.endpoint("web", 8080).address;
  await started.down();
  try {
    await safeRemove(engine, "some-container", { graceSeconds: 5 });
  } catch (error) {
    if (isBerthError(error)) console.log(error.code, error.exitCode, error.hint);
    if (error instanceof ConfigError || error instanceof BerthError) throw error;
  }
  const proxy: RunningProxy = await startProxy({ listen: "tcp://127.0.0.1:0" });
  await proxy.close();
  console.log(metrics, descriptor.project, address, environmentFromEnv().url("web", 8080));
  return descriptor.endpoints.length;
}

export const vitestSetup = berthGlobalSetup({ files: ["compose.yml"], name: "default" });
export const vitestUrl = (): string => useEnvironment().url("web", 8080);
export const jestHooks: [() => Promise<void>, () => Promise<void>] = [globalSetup(options), globalTeardown()];
export const jestUrl = (): string => useJestEnvironment().url("web", 8080);
export const policy = loadPolicyFile;
export const report = (results: ValidationResults): string => renderMarkdown(results);

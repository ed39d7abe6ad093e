// Reference stack (optional): the five-service stack berth's users run (backend and auth over
// PostgreSQL, Redis and ClickHouse), built locally, brought up healthy with its memory limits,
// checked from the host and brought down with nothing left. Runs only where its images exist.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Engine } from "../../engine/engine.js";
import { REFERENCE_IMAGE_REFS, staleReferenceImages } from "../../fixtures/reference-stack.js";
import { projectInventory } from "../../stack/inventory.js";
import { up } from "../../stack/up.js";
import { inspectRewrite } from "../faults.js";
import { type Category, check, checkEqual, type Scenario } from "../scenario.js";

const C = "reference-stack";
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The example's directory in this checkout or package (two levels above src/validate or dist/validate). */
function referenceStackDir(): string {
  return fileURLToPath(new URL("../../../examples/reference-stack/", import.meta.url));
}

const FILES = ["compose.yml", "compose.test.yml"];

async function unavailable(engine: Engine): Promise<string | undefined> {
  const dir = referenceStackDir();
  const missingFiles = FILES.filter((f) => !existsSync(`${dir}${f}`));
  if (missingFiles.length > 0)
    return `the reference stack's compose files are missing (${missingFiles.join(", ")} in ${dir})`;
  const stale = await staleReferenceImages(engine);
  if (stale.length > 0) {
    return `its images are not built (${stale.join(", ")}); build them with \`berth fixtures build --reference-stack\``;
  }
  return undefined;
}

/** The memory limits the issue gives the reference stack. */
const EXPECTED_LIMITS: Record<string, number> = {
  backend: 2 * GiB,
  auth: 1 * GiB,
  postgres: 1 * GiB,
  redis: 512 * MiB,
  clickhouse: 1 * GiB,
};

const upHealthyDown: Scenario = {
  id: `${C}.up-healthy-down`,
  category: C,
  title:
    "The five-service stack comes up healthy with its limits, answers from the host, and goes down clean",
  timeoutMs: 240_000,
  exclusive: true,
  fault: {
    kind: "relay",
    describe: "the daemon reports every memory limit as 64 MiB",
    expect: /memory limit: expected \d+, got 67108864/,
    rules: [
      inspectRewrite((info) => {
        info.HostConfig.Memory = 64 * MiB;
      }),
    ],
  },
  async run(ctx) {
    const dir = referenceStackDir();
    const project = ctx.name("refstack");
    const env = await ctx.time("up", () =>
      up({ files: FILES, cwd: dir, project, engine: ctx.engine, signal: ctx.signal, timeoutMs: 200_000 }),
    );
    ctx.defer(() => env.down({ timeoutSeconds: 10 }));
    const services = env.services.map((s) => s.name).sort();
    const limits: Record<string, string> = {};
    for (const service of env.services) {
      const info = await ctx.engine.inspectContainer(service.containerId);
      const expected = EXPECTED_LIMITS[service.name];
      if (expected !== undefined)
        checkEqual(info.HostConfig.Memory ?? null, expected, `${service.name} memory limit`);
      limits[service.name] = `${Math.round((info.HostConfig.Memory ?? 0) / MiB)} MiB`;
    }
    const health: Record<string, number> = {};
    for (const service of ["backend", "auth"]) {
      const endpoint = env.endpoints.find((e) => e.service === service);
      if (!endpoint) continue;
      const response = await fetch(`http://${endpoint.address}/health`);
      health[service] = response.status;
      checkEqual(response.status, 200, `${service} /health from the host`);
    }
    const stopped = await ctx.time("down", () => env.down({ timeoutSeconds: 10 }));
    const left = await projectInventory(ctx.engine, { project });
    const leftCount = left.containers.length + left.networks.length + left.volumes.length;
    checkEqual(leftCount, 0, "resources left after down");
    check(stopped.report !== undefined, "down gave no report");
    return {
      services,
      images: Object.values(REFERENCE_IMAGE_REFS),
      limits,
      health,
      upMs: Math.round(env.durationMs),
    };
  },
};

export const referenceStack: Category = {
  id: C,
  title: "Reference stack",
  optional: true,
  unavailable,
  scenarios: [upHealthyDown],
};

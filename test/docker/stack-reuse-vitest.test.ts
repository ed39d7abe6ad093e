// berthGlobalSetup({ reuse: true }) across two `vitest run`s: the first run leaves its environment
// idle, the second gets the same one handed over (reused), and each run's tests see it.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { down } from "../../src/stack/down.js";
import { HTTP_HEALTHCHECK, httpdCommand } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const run = promisify(execFile);
// Inside the checkout, so the inner run resolves vitest and berth's sources from it.
const dir = mkdtempSync(join(process.cwd(), "test", "docker", ".reuse-vitest-"));
const sessions = new Set<string>();

afterAll(async () => {
  // Every one is tried; the first failure is reported after.
  const results = await Promise.allSettled(
    [...sessions].map((session) => down({ engine, session, volumes: true })),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  rmSync(dir, { recursive: true, force: true });
  if (failed) throw failed.reason;
});

describe("berthGlobalSetup with reuse", () => {
  it("reuses the environment across two vitest runs", { timeout: 420_000 }, async () => {
    writeFileSync(
      join(dir, "compose.yml"),
      `services:
  web:
    image: ${fixtureImage()}
    command: ${JSON.stringify(httpdCommand("from-vitest"))}
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 1s
      retries: 60
`,
    );
    const setup = join(process.cwd(), "src", "testing", "vitest.ts");
    writeFileSync(
      join(dir, "berth.setup.ts"),
      `import { berthGlobalSetup } from ${JSON.stringify(setup)};
export default berthGlobalSetup({ files: [${JSON.stringify(join(dir, "compose.yml"))}], reuse: true });
`,
    );
    writeFileSync(
      join(dir, "env.check.ts"),
      `import { writeFileSync } from "node:fs";
import { expect, it } from "vitest";
import { useEnvironment } from ${JSON.stringify(setup)};
it("sees the environment", async () => {
  const env = useEnvironment();
  expect(await (await fetch(env.url("web", 8080, "/index.html"))).text()).toBe("from-vitest\\n");
  writeFileSync(process.env.BERTH_TEST_OUT!, JSON.stringify(env.descriptor));
});
`,
    );
    writeFileSync(
      join(dir, "vitest.config.mjs"),
      `export default { test: { globalSetup: ["./berth.setup.ts"], include: ["env.check.ts"] } };\n`,
    );
    const vitest = join(process.cwd(), "node_modules", "vitest", "vitest.mjs");
    const once = async (n: number) => {
      const out = join(dir, `run-${n}.json`);
      const { stdout } = await run(process.execPath, [vitest, "run", "--root", dir], {
        env: { ...process.env, BERTH_REUSE: "force", BERTH_TEST_OUT: out },
      });
      expect(stdout).toContain("1 passed");
      const descriptor = JSON.parse(readFileSync(out, "utf8")) as { session: string; reused: boolean };
      sessions.add(descriptor.session);
      return descriptor;
    };
    const first = await once(1);
    expect(first.reused).toBe(false);
    const second = await once(2);
    expect(second.reused).toBe(true);
    expect(second.session).toBe(first.session);
  });
});

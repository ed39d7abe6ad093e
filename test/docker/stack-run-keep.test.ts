// `berth run --keep`: the environment outlives the command (and berth) for debugging: no reaper
// guards it and its resources are marked detached, so gc of dead owners leaves them too; `berth
// down` takes it away. Without --keep, run takes it down as always.
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { newSessionId } from "../../src/janitor/session.js";
import { LABELS } from "../../src/model/labels.js";
import { downEnvironment } from "../../src/stack/down.js";
import { composeDir, projectResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const composeFile = (image: string) => `
services:
  app:
    image: ${image}
    command: ["sh", "-c", "echo app-ready; trap 'exit 0' TERM; sleep 600 & wait"]
    x-berth:
      wait:
        - log: app-ready
`;

afterEach(() => {
  // main() reports through process.exitCode; the test runner's own must stay untouched.
  process.exitCode = undefined;
});

describe("berth run --keep", () => {
  it("leaves the environment up and marked detached after the command; without it run takes it down", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    const kept = `berth-test-keep-${newSessionId().slice(0, 6)}`;
    const plain = `berth-test-keep-${newSessionId().slice(0, 6)}`;
    try {
      const file = dir.file("compose.yaml", composeFile(fixtureImage()));
      const base = ["node", "berth", "run", "-f", file];
      expect(await main([...base, "-p", kept, "--keep", "--", "sh", "-c", "exit 0"])).toBe(0);
      const containers = await engine.listContainers({
        all: true,
        filters: { label: [`${LABELS.project}=${kept}`] },
      });
      expect(containers).toHaveLength(1);
      expect(containers[0]!.State).toBe("running");
      expect(containers[0]!.Labels[LABELS.detached]).toBe("true");
      expect(await projectResources(kept)).toEqual(expect.arrayContaining([`network ${kept}_default`]));

      expect(await main([...base, "-p", plain, "--", "sh", "-c", "exit 0"])).toBe(0);
      expect(await projectResources(plain)).toEqual([]);
    } finally {
      for (const project of [kept, plain]) {
        await downEnvironment(engine, { project, volumes: true }).catch(() => {});
      }
      dir.remove();
    }
    expect(await projectResources(kept)).toEqual([]);
  });
});

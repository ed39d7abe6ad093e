// A .dockerignore that lists the Dockerfile (and itself), as many projects write it: berth's
// filtered context keeps the Dockerfile (the daemon needs it) and must be sent as it is; a client
// that filters the context again by .dockerignore drops the Dockerfile and the build fails.
import { afterAll, describe, expect, it } from "vitest";
import { up } from "../../src/stack/up.js";
import { composeDir, sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const built = new Set<string>();
afterAll(async () => {
  for (const tag of built) await engine.removeImage(tag).catch(() => {});
});

describe("a .dockerignore that lists the Dockerfile", () => {
  it("builds, without the ignored files in the image", { timeout: 240_000 }, async () => {
    const dir = composeDir();
    try {
      dir.file("Dockerfile", `FROM ${fixtureImage()}\nCOPY . /ctx\n`);
      dir.file(".dockerignore", "Dockerfile\n.dockerignore\nsecret.txt\n");
      dir.file("secret.txt", "not for the image\n");
      dir.file("kept.txt", "kept\n");
      dir.file(
        "compose.yml",
        "name: ignoretest\nservices:\n  app:\n    build: .\n" +
          `    command: ["sh", "-c", "ls /ctx; echo listed; trap 'exit 0' TERM; sleep 60 & wait"]\n` +
          "    x-berth: {wait: [{log: listed}]}\n",
      );
      const env = await up({ files: [`${dir.dir}/compose.yml`] });
      try {
        const info = await engine.inspectContainer(env.service("app").containerId);
        built.add(info.Config.Image);
        const listing = await env.logs("app");
        expect(listing).toContain("kept.txt");
        expect(listing).not.toContain("secret.txt");
        expect(listing).not.toContain("Dockerfile");
      } finally {
        await env.down();
        expect(await sessionResources(env.session)).toEqual([]);
      }
    } finally {
      dir.remove();
    }
  });
});

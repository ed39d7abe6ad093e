// `build` keys against the real daemon's build API: an inline Dockerfile whose RUN steps check
// the network (`none`: loopback only), `extra_hosts` and `shm_size`; a label on the built image;
// extra `tags`; `no_cache` building afresh every time where a build without it is reused.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { loadCompose } from "../../src/stack/compose/index.js";
import { ensureImages } from "../../src/stack/images.js";
import { composeDir } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const id = randomUUID().slice(0, 8);
const built = new Set<string>();
afterAll(async () => {
  for (const tag of built) await engine.removeImage(tag).catch(() => {});
});

function compose(noCache: boolean): string {
  // One RUN step (one build container): only loopback with network none (the default bridge
  // would add eth0; `$$` is a `$` once Compose has interpolated the file), the extra host, the
  // /dev/shm size, and a random stamp that only a build without the layer cache makes anew.
  const run = [
    'test "$$(ls /sys/class/net)" = lo',
    "grep -q 'db-host' /etc/hosts",
    "df -k /dev/shm | grep -q ' 65536 '",
    "head -c 16 /dev/urandom | od -x > /stamp",
  ].join(" && ");
  const steps = [`FROM ${fixtureImage()}`, `RUN ${run}`];
  return [
    "services:",
    "  app:",
    `    image: berth-test-build-${id}:1`,
    "    build:",
    "      context: .",
    "      dockerfile_inline: |",
    ...steps.map((s) => `        ${s}`),
    "      network: none",
    "      extra_hosts: ['db-host:10.1.2.3']",
    "      shm_size: 64m",
    "      labels: {org.example.team: web}",
    `      tags: ['berth-test-build-${id}:extra']`,
    `      no_cache: ${noCache}`,
    "",
  ].join("\n");
}

async function ensure(dir: string): Promise<{ phases: string[]; imageId: string }> {
  const { project } = await loadCompose({ files: ["compose.yml"], cwd: dir, env: {} });
  const phases: string[] = [];
  const refs = await ensureImages(engine, Object.values(project.services), {
    projectBase: "buildkeys",
    buildLabels: {},
    onBuild: (_service, phase) => phases.push(phase),
  });
  built.add(refs.app!);
  built.add(`berth-test-build-${id}:extra`);
  const image = await engine.findImage(refs.app!);
  return { phases, imageId: image!.Id };
}

describe("build keys (real daemon)", () => {
  it("honours network, extra_hosts, shm_size, labels, tags and no_cache", { timeout: 240_000 }, async () => {
    const dir = composeDir();
    try {
      dir.file("compose.yml", compose(false));
      const first = await ensure(dir.dir);
      expect(first.phases).toEqual(["building", "built"]);
      const image = await engine.findImage(`berth-test-build-${id}:1`);
      expect(image!.Config!.Labels).toMatchObject({ "org.example.team": "web" });
      expect((await engine.findImage(`berth-test-build-${id}:extra`))!.Id).toBe(image!.Id);
      // Without no_cache an unchanged build is reused.
      expect((await ensure(dir.dir)).phases).toEqual(["reused"]);

      dir.file("compose.yml", compose(true));
      const fresh = await ensure(dir.dir);
      const again = await ensure(dir.dir);
      expect(fresh.phases).toEqual(["building", "built"]);
      expect(again.phases).toEqual(["building", "built"]);
      // The daemon's layer cache was not used either: the random stamp differs.
      expect(again.imageId).not.toBe(fresh.imageId);
    } finally {
      dir.remove();
    }
  });
});

// The node:test recipe of docs/getting-started.md: an environment per file, up in `before`,
// down in `after`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { up } from "berth-docker";

let env;
before(async () => {
  env = await up({ files: ["../compose.yml"], cwd: fileURLToPath(new URL(".", import.meta.url)) });
});
after(() => env?.down());

test("fetches from both services", async () => {
  assert.equal(await (await fetch(env.url("web", 8080))).text(), "web\n");
  assert.deepEqual(await (await fetch(env.url("api", 9000, "/health"))).json(), { status: "ok" });
});

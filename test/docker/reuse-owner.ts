// A reuse owner for the lease tests, run as its own process (`node --import tsx`): it waits for a
// line on stdin (so two can be started ahead of time and released together), brings FILE up with
// reuse, prints one JSON line (session, reused), then releases and exits (`release`), holds the
// lease until it is killed (`hold`), or holds it until a second line arrives (`until-line`).
//   reuse-owner.ts FILE [release|hold|until-line]
import { once } from "node:events";
import { createInterface } from "node:readline";
import { up } from "../../src/stack/up.js";

const [file, mode = "release"] = process.argv.slice(2);
if (!file || !["release", "hold", "until-line"].includes(mode)) {
  process.stderr.write("usage: reuse-owner.ts FILE [release|hold|until-line]\n");
  process.exit(2);
}
const gate = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ event: "waiting", pid: process.pid })}\n`);
await once(gate, "line");

const env = await up({ files: [file], reuse: true, watch: false });
process.stdout.write(
  `${JSON.stringify({ event: "up", session: env.session, project: env.project, reused: env.reused })}\n`,
);
if (mode === "hold") {
  gate.close();
  process.stdin.destroy();
  setInterval(() => {}, 60_000);
} else {
  if (mode === "until-line") await once(gate, "line");
  gate.close();
  process.stdin.destroy();
  await env.down();
  process.stdout.write(`${JSON.stringify({ event: "released" })}\n`);
}

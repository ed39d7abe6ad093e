// A reuse owner for the lease tests, run as its own process (`node --import tsx`): it waits for a
// line on stdin (so two can be started ahead of time and released together), brings FILE up with
// reuse, prints one JSON line (session, reused), then either releases and exits (`release`) or
// holds the lease until it is killed (`hold`).
//   reuse-owner.ts FILE [release|hold]
import { once } from "node:events";
import { createInterface } from "node:readline";
import { up } from "../../src/stack/up.js";

const [file, mode = "release"] = process.argv.slice(2);
if (!file || !["release", "hold"].includes(mode)) {
  process.stderr.write("usage: reuse-owner.ts FILE [release|hold]\n");
  process.exit(2);
}
const gate = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ event: "waiting", pid: process.pid })}\n`);
await once(gate, "line");
gate.close();
process.stdin.destroy();

const env = await up({ files: [file], reuse: true, watch: false });
process.stdout.write(
  `${JSON.stringify({ event: "up", session: env.session, project: env.project, reused: env.reused })}\n`,
);
if (mode === "hold") {
  setInterval(() => {}, 60_000);
} else {
  await env.down();
  process.stdout.write(`${JSON.stringify({ event: "released" })}\n`);
}

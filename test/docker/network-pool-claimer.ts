// A process that claims pooled networks, for the network pool's contention and crash tests, run
// as its own process (`node --import tsx`). It starts when a line arrives on stdin (so two of
// them start together), claims COUNT networks at once for SESSION, prints their names as a JSON
// line, then exits (`exit`, claims left held by a dead process) or waits to be killed (`hold`).
//   network-pool-claimer.ts COUNT SESSION [exit|hold]
// The pool's settings (BERTH_LABELS, BERTH_NETWORK_POOL_*) come from the environment.
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Engine } from "../../src/engine/engine.js";
import { claimPoolNetwork, networkPoolConfig } from "../../src/janitor/network-pool.js";

const [count, session, mode = "exit"] = process.argv.slice(2);
const engine = new Engine();
const config = networkPoolConfig(process.env, true);
await once(createInterface({ input: process.stdin }), "line");
const claimed = await Promise.all(
  Array.from({ length: Number(count) }, () =>
    claimPoolNetwork(engine, { session: session!, project: session! }, config),
  ),
);
process.stdout.write(
  `${JSON.stringify({ event: "claimed", names: claimed.map((c) => c.name), pid: process.pid })}\n`,
);
if (mode === "hold") setInterval(() => {}, 60_000);
else process.exit(0);

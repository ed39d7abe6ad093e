// A session owner run as its own process by the cleanup scenarios: it opens a reaper-guarded
// session, creates a network, two running containers and a volume, reports them as one JSON line,
// then either waits to be killed (`wait`) or removes everything, ends the session and exits
// (`exit`). `linger` is the misbehaving owner of `--prove`: it removes everything and reports
// done, but never ends its session and keeps running. Usage: owner-process IMAGE DOCKER_HOST MODE
import { createEngine } from "../guard/guard.js";
import { watchdogPid } from "../janitor/reaper.js";
import { createSession } from "../janitor/session.js";
import { safeRemove } from "../lifecycle/safe-remove.js";

const [image, dockerHost, mode] = process.argv.slice(2);
if (!image || !dockerHost || (mode !== "wait" && mode !== "exit" && mode !== "linger")) {
  process.stderr.write("usage: owner-process IMAGE DOCKER_HOST wait|exit|linger\n");
  process.exit(2);
}

const report = (event: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...extra })}\n`);

const engine = createEngine({ dockerHost });
const session = createSession(engine);
await session.beforeCreate();
const network = `${session.project}_default`;
const { id: networkId } = await engine.createNetwork({
  Name: network,
  Labels: session.labels(),
  CheckDuplicate: true,
});
const volume = (await engine.createVolume({ Name: `${session.project}_data`, Labels: session.labels() }))
  .name;
const containers: string[] = [];
for (const service of ["db", "api"]) {
  const { id } = await engine.createContainer({
    name: `${session.project}-${service}-1`,
    Image: image,
    Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
    Labels: session.labels(service),
    HostConfig: { NetworkMode: network, Binds: [`${volume}:/data`] },
  });
  await engine.startContainer(id);
  containers.push(id);
}
report("ready", { session: session.id, watchdog: watchdogPid() ?? null, resources: containers.length + 2 });

if (mode === "exit" || mode === "linger") {
  await Promise.all(containers.map((id) => safeRemove(engine, id, { maxGraceSeconds: 2 })));
  await engine.removeNetwork(networkId);
  await engine.removeVolume(volume);
  if (mode === "exit") await session.end();
  report("done", { watchdog: watchdogPid() ?? null });
  if (mode === "linger") setInterval(() => {}, 60_000);
} else {
  setInterval(() => {}, 60_000);
}

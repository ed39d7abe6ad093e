// What a person needs to see when a service fails: its state, exit code, OOM kill, the last
// health probe and the tail of its output, gathered in one place for every failure kind. The
// memory layer's `diagnoseExit` says why it ended; this adds berth's own last probe and the state.
import type { Engine } from "../engine/engine.js";
import { engineIdentity } from "../engine/identity.js";
import { diagnoseExit, type ExitDiagnosis, mayBeLateOom } from "../memory/diagnose.js";
import { oomEventLogged } from "../memory/oom-events.js";

const LOG_TAIL_LINES = 50;

export interface ContainerDiagnosis {
  container: string;
  id: string;
  /** Docker's status: created, running, exited, restarting, dead. */
  status: string;
  exitCode: number | null;
  oomKilled: boolean;
  /** Docker health status, when the container has a healthcheck. */
  health?: string;
  /** The last probe (Docker's health log, else berth's own last check). */
  lastProbe?: string;
  /** Up to the last 50 lines of output. */
  logTail: string[];
  /** Why it ended (or is failing), as the memory layer words it; the OOM error is built from it. */
  exit: ExitDiagnosis;
}

export async function diagnoseContainer(
  engine: Engine,
  service: string,
  containerId: string,
  lastProbe?: string,
): Promise<ContainerDiagnosis | undefined> {
  const info = await engine.findContainer(containerId).catch(() => undefined);
  if (!info) return undefined;
  const logs = await engine
    .containerLogs(info.Id, { tail: LOG_TAIL_LINES })
    .catch(() => ({ stdout: "", stderr: "" }));
  // Exit 137 without the flag: the daemon may have taken the exit before the OOM notice.
  const oomEventSeen =
    mayBeLateOom(info) &&
    (await oomEventLogged(engine, info.Id, { since: new Date(info.State.StartedAt) }).catch(() => false));
  const identity = await engineIdentity(engine).catch(() => undefined);
  const exit = diagnoseExit(service, info, `${logs.stdout}${logs.stderr}`, {
    oomEventSeen,
    ...(identity?.kind === "podman" ? { oomUnreportedBy: `${identity.name} ${identity.version}` } : {}),
  });
  const health = (info.State as { Health?: { Status?: string } }).Health?.Status;
  const dockerProbe = exit.lastProbe
    ? `exit ${exit.lastProbe.exitCode}: ${exit.lastProbe.output || "(no output)"}`
    : undefined;
  const probe = dockerProbe ?? lastProbe;
  return {
    container: exit.container,
    id: info.Id,
    status: info.State.Status,
    exitCode: exit.exitCode ?? null,
    oomKilled: exit.oomKilled,
    ...(health ? { health } : {}),
    ...(probe ? { lastProbe: probe } : {}),
    logTail: exit.logsTail,
    exit,
  };
}

export function formatDiagnosis(d: ContainerDiagnosis): string {
  const state = [
    `state: ${d.status}`,
    ...(d.exitCode === null ? [] : [`exit code: ${d.exitCode}`]),
    ...(d.health ? [`health: ${d.health}`] : []),
    ...(d.oomKilled ? ["OOM-killed: yes"] : []),
  ].join(", ");
  const lines = [`  container: ${d.container} (${d.id.slice(0, 12)}), ${state}`];
  if (d.exit.probableOom) lines.push(`  why: ${d.exit.summary}`);
  if (d.lastProbe) lines.push(`  last probe: ${d.lastProbe.split("\n").join("\n              ")}`);
  if (d.logTail.length === 0) lines.push("  output: (none)");
  else {
    lines.push(`  last ${d.logTail.length} log line(s):`);
    for (const line of d.logTail) lines.push(`    | ${line}`);
  }
  return lines.join("\n");
}

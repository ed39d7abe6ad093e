// How `berth run` and `berth up --watch` report an environment's incidents: each at once on
// stderr (a line naming the time, the service and the cause, with the last log lines of a
// failure; or a JSON line with --json), and a summary at the end.
import type { Engine } from "../engine/engine.js";
import type { EnvironmentEvent } from "../lifecycle/watch.js";
import { formatEnvironmentEvent, formatEventSummary } from "../lifecycle/watch-report.js";
import { LABELS } from "../model/labels.js";
import type { StartedEnvironment } from "../stack/environment.js";
import { exitCodeFor, formatError } from "./output.js";

/** Writes one incident to stderr at once: a line (and log tail), or a JSON line with --json. */
function reportIncident(incident: EnvironmentEvent, json: boolean): void {
  process.stderr.write(
    json ? `${JSON.stringify({ type: "incident", ...incident })}\n` : `${formatEnvironmentEvent(incident)}\n`,
  );
}

/** The summary of the incidents that were not deliberate: count and per service, or a clean bill. */
export function reportIncidentSummary(incidents: readonly EnvironmentEvent[], json: boolean): void {
  if (!json) {
    process.stderr.write(`${formatEventSummary(incidents)}\n`);
    return;
  }
  const notable = incidents.filter((i) => i.severity !== "info");
  const perService: Record<string, number> = {};
  for (const i of notable) perService[i.service] = (perService[i.service] ?? 0) + 1;
  process.stderr.write(`${JSON.stringify({ type: "incidents", count: notable.length, perService })}\n`);
}

/**
 * Reports the environment's incidents from now on, those it already has first (nothing falls
 * between the two: both happen in one synchronous step). Answers an unsubscribe.
 */
export function reportIncidents(env: StartedEnvironment, json: boolean): () => void {
  for (const incident of env.incidents) reportIncident(incident, json);
  const offIncident = env.onIncident((incident) => reportIncident(incident, json));
  const offError = env.onWatchError((error) =>
    process.stderr.write(`berth: no longer watching the services: ${(error as Error)?.message ?? error}\n`),
  );
  return () => {
    offIncident();
    offError();
  };
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * `berth up --watch`: stays in the foreground reporting incidents until SIGINT or SIGTERM, the
 * watch fails, or no container of the environment runs any longer (it was taken down). Never
 * takes the environment down. Answers the exit code: 1 when a service died, was OOM-killed or
 * turned unhealthy while watched, the error's code when the watch failed, 0 otherwise.
 */
export function followEnvironment(engine: Engine, env: StartedEnvironment, json: boolean): Promise<number> {
  return new Promise((resolve) => {
    // The environment's watcher does not hold the process; in the foreground it must stay.
    const alive = setInterval(() => {}, 1 << 30);
    let finished = false;
    let failed = false;
    const finish = async (code: number, why: string | undefined) => {
      if (finished) return;
      finished = true;
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      // Incidents received before the stop are still reported; then nothing more.
      await env.stopWatching();
      offIncident();
      clearInterval(alive);
      if (why && !json) process.stderr.write(`berth: ${why}\n`);
      reportIncidentSummary(env.incidents, json);
      resolve(failed && code === 0 ? 1 : code);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      void finish(
        0,
        `${signal}: stopped watching; project ${env.project} stays up (berth down -p ${env.project})`,
      );
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    const check = async () => {
      const running = await engine
        .listContainers({ all: false, filters: { label: [`${LABELS.session}=${env.session}`] } })
        .catch(() => undefined);
      if (running && running.length === 0) {
        await finish(0, `no container of project ${env.project} runs any longer; stopped watching`);
      }
    };
    const seen = (incident: EnvironmentEvent) => {
      if (incident.severity === "error") failed = true;
      if (incident.kind === "exited" || incident.kind === "stopped" || incident.kind === "oom-killed")
        void check();
    };
    for (const incident of env.incidents) seen(incident);
    const offReport = reportIncidents(env, json);
    const offSeen = env.onIncident(seen);
    const offFailure = env.onWatchError((error) => {
      if (!json) process.stderr.write(`${formatError(error)}\n`);
      void finish(exitCodeFor(error), undefined);
    });
    const offIncident = () => {
      offReport();
      offSeen();
      offFailure();
    };
    process.stderr.write(
      json
        ? `${JSON.stringify({ type: "watching", project: env.project, session: env.session })}\n`
        : `berth: watching project ${env.project}; Ctrl-C stops watching and leaves it up\n`,
    );
    void check();
  });
}

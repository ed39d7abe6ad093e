// How the watcher's events read on stderr: one line per event as it happens, a summary at the end.
import type { EnvironmentEvent } from "./watch.js";

function clock(time: Date): string {
  return `${time.toISOString().slice(11, 19)}Z`;
}

/** The stderr line for one event: `berth: 12:03:04Z service `api` was killed by ...`. */
export function formatEnvironmentEvent(event: EnvironmentEvent): string {
  const lines = [`berth: ${clock(event.time)} ${event.message}`];
  if (event.severity === "error" && event.logsTail.length) {
    lines.push(`  last ${Math.min(event.logsTail.length, 10)} log lines of ${event.container}:`);
    for (const line of event.logsTail.slice(-10)) lines.push(`    ${line}`);
  }
  return lines.join("\n");
}

/** The end-of-run summary: every event that was not a deliberate stop, or a clean bill. */
export function formatEventSummary(events: readonly EnvironmentEvent[]): string {
  const notable = events.filter((e) => e.severity !== "info");
  if (notable.length === 0)
    return "berth: no service died, was OOM-killed or turned unhealthy during the run";
  const perService = new Map<string, number>();
  for (const e of notable) perService.set(e.service, (perService.get(e.service) ?? 0) + 1);
  const lines = [
    `berth: ${notable.length} service event${notable.length === 1 ? "" : "s"} during the run:`,
    ...notable.map(
      (e) => `  ${clock(e.time)}  ${e.severity === "error" ? "error  " : "warning"}  ${e.message}`,
    ),
    `  per service: ${[...perService].map(([service, count]) => `${service} ${count}`).join(", ")}`,
  ];
  return lines.join("\n");
}

// What a failed `up` leaves behind: nothing. The rollback takes the session down by label (so a
// create in flight when the failure came is found too), with a second pass for what a busy
// daemon had not settled yet; a timeout is described service by service.
import type { Engine } from "../engine/engine.js";
import type { Session } from "../janitor/session.js";
import { diagnoseContainer, formatDiagnosis } from "../lifecycle/diagnose.js";
import { sleep } from "../model/sleep.js";
import { DownIncompleteError, downEnvironment } from "./down.js";
import { UpTimeoutError } from "./errors.js";
import type { ProgressListener } from "./progress/events.js";
import type { ServiceRun } from "./up-run.js";

export async function describeTimeout(
  engine: Engine,
  marker: UpTimeoutError,
  runs: ServiceRun[],
): Promise<UpTimeoutError> {
  const pending = runs.filter((r) => r.phase !== "ready" && r.phase !== "completed");
  const lines = [
    `${marker.message}; not ready: ${pending.map((r) => `${r.spec.name} (${r.phase})`).join(", ")}`,
  ];
  for (const run of pending.filter((r) => r.phase === "waiting" && r.id)) {
    const diagnosis = await diagnoseContainer(engine, run.spec.name, run.id!);
    if (diagnosis) lines.push(`service ${run.spec.name}:`, formatDiagnosis(diagnosis));
  }
  return new UpTimeoutError(lines.join("\n"), {
    resource: pending.map((r) => r.spec.name).join(", "),
    hint: "Raise the overall timeout (--timeout) or the service's own (x-berth.timeout).",
  });
}

/** Pause before the rollback's second pass, when the first left something behind. */
const ROLLBACK_RETRY_DELAY_MS = 1_000;

export async function rollback(
  engine: Engine,
  session: Session,
  error: unknown,
  emit: ProgressListener,
): Promise<void> {
  const reason = (error as Error)?.message?.split("\n")[0] ?? String(error);
  emit({ type: "rollback", phase: "started", reason });
  const takeDown = () =>
    downEnvironment(engine, {
      session: session.id,
      volumes: true,
      sessionVolumesOnly: true,
      onProgress: emit,
    });
  try {
    try {
      await takeDown();
    } catch (first) {
      // A second pass for what a busy daemon had not settled yet (seen once in CI: a rollback
      // left a container and its network, which the session's reaper removed later). Its own
      // verification decides; what the first pass met is kept in the message if it fails too.
      if (!(first instanceof DownIncompleteError)) throw first;
      emit({ type: "warning", message: `Rollback: a second pass, the first left: ${first.message}` });
      await sleep(ROLLBACK_RETRY_DELAY_MS);
      try {
        await takeDown();
      } catch (second) {
        (second as Error).message += `\nFirst pass: ${first.message}`;
        throw second;
      }
    }
    await session.end();
  } catch (rollbackError) {
    if (error instanceof Error) {
      error.message += `\nRollback incomplete: ${(rollbackError as Error).message}`;
    }
  }
  emit({ type: "rollback", phase: "finished", reason });
}

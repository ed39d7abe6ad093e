// A daemon that goes away in the middle of an `up` or a `down` (restarted, stopped). What the
// operation met is often only a consequence: the shutting-down daemon stops the services, so a
// service "exited with code 0 before it was ready". A ping on a new connection tells (a daemon
// shutting down closes its listener first and still serves the connections it has); removal,
// always safe to repeat, waits for the daemon to answer again, within a bound.
import type { Engine } from "../engine/engine.js";
import { DaemonUnavailableError, DaemonWentAwayError, TlsError } from "../engine/errors.js";
import { isConnectionFailure } from "../guard/retry.js";
import { pollUntil } from "../lifecycle/backoff.js";

/** How long removal waits for a daemon that went away to answer again. */
export const DAEMON_RETURN_WAIT_MS = 30_000;

function isUnreachable(error: unknown): boolean {
  return (
    (error instanceof DaemonUnavailableError && !(error instanceof TlsError)) || isConnectionFailure(error)
  );
}

/**
 * True when the daemon no longer accepts connections, or `error` itself says it broke away.
 * Call it only for an operation the daemon had answered: a daemon that never answered did not
 * go away, it was not there.
 */
export async function daemonWentAway(engine: Engine, error: unknown): Promise<boolean> {
  if (error instanceof DaemonWentAwayError || isUnreachable(error)) return true;
  try {
    await engine.pingFresh();
    return false;
  } catch (probe) {
    return isUnreachable(probe);
  }
}

/**
 * Waits up to `timeoutMs` for the daemon to accept connections again: answers after how many ms
 * it did, or undefined when it did not (or failed otherwise). An abort of `signal` rejects.
 */
export async function awaitDaemon(
  engine: Engine,
  timeoutMs = DAEMON_RETURN_WAIT_MS,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const began = performance.now();
  const answers = async () => {
    try {
      await engine.pingFresh(signal);
      return true;
    } catch (error) {
      if (isUnreachable(error)) return false;
      throw error;
    }
  };
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    await pollUntil(answers, {
      backoff: { initialMs: 250, factor: 1, maxMs: 250 },
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    return performance.now() - began;
  } catch (error) {
    if (signal?.aborted) throw error;
    return undefined;
  }
}

/** The error an operation the daemon walked out of ends with; `cause` is what it met first. */
export function wentAwayError(
  engine: Engine,
  during: string,
  cause: unknown,
  /**
   * `backAfterMs`: when it answered again, if known; `waitedMs`: how long berth waited when it did
   * not; `done`: everything was removed.
   */
  cleanup: { back: boolean; backAfterMs?: number; waitedMs?: number; done: boolean },
): DaemonWentAwayError {
  const endpoint = engine.endpoint.url;
  const met = (cause as Error)?.message?.split("\n")[0] ?? String(cause);
  const after =
    cleanup.backAfterMs === undefined ? "" : ` ${(cleanup.backAfterMs / 1000).toFixed(1)} s later`;
  const then = cleanup.back
    ? `it answered again${after} and ${cleanup.done ? "berth removed what was left" : "removing what was left failed"}`
    : `it did not answer again${cleanup.waitedMs === undefined ? "" : ` within ${cleanup.waitedMs / 1000} s`}`;
  return new DaemonWentAwayError(
    `The Docker daemon at ${endpoint} went away during ${during} (it stopped accepting connections; the ${during} met: ${met}); ${then}`,
    endpoint,
    cleanup.done,
    {
      operation: during,
      cause,
      source: engine.endpoint.source,
      hint: cleanup.done
        ? "The daemon was stopped or restarted meanwhile (its containers were stopped with it); run the command again."
        : "Once the daemon answers again, `berth down` (or `berth gc`) removes what is left.",
    },
  );
}

// Waits until a container has printed a line containing a given text, by following its log
// stream from the start (one request, no polling): fixtures print a readiness line once their
// signal handling or server is in place, and tests and validate scenarios wait for it.
import type { Engine } from "../../engine/engine.js";
import { logWait } from "./log.js";
import { NotReadyError } from "./types.js";

interface OutputLineOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Resolves once `containerId`'s stdout or stderr has a line containing `text`. Rejects with a
 * NotReadyError: `timeout` after `timeoutMs` (with the last line seen), `exited` when the output
 * ended first. An abort of `signal` rejects with its reason.
 */
export async function waitForOutputLine(
  engine: Engine,
  containerId: string,
  text: string,
  options: OutputLineOptions,
): Promise<void> {
  const strategy = logWait(escapeRegExp(text));
  const timedOut = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timedOut]) : timedOut;
  const target = { engine, service: containerId, containerId, hostAddress: () => undefined };
  try {
    await strategy.wait(target, signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const seen = strategy.lastProbe();
    const id = containerId.slice(0, 12);
    if (timedOut.aborted) {
      throw new NotReadyError(
        "timeout",
        `container ${id} did not print \`${text}\` within ${options.timeoutMs / 1000} s`,
        seen,
      );
    }
    if (error instanceof NotReadyError) {
      throw new NotReadyError(
        error.reason,
        `the output of container ${id} ended before it printed \`${text}\``,
        seen,
      );
    }
    throw error;
  }
}

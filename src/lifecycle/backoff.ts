// Polling with backoff: probes start quick (a service that is ready at once is seen at once) and
// slow down geometrically, so waiting on a slow service costs the daemon a handful of calls.
import { pause } from "../model/sleep.js";

interface BackoffOptions {
  /** First delay, ms. */
  initialMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Largest delay, ms. */
  maxMs: number;
}

export function* backoffDelays(options: BackoffOptions): Generator<number, never> {
  let delay = options.initialMs;
  for (;;) {
    yield delay;
    delay = Math.min(options.maxMs, delay * (options.factor ?? 2));
  }
}

interface PollOptions {
  backoff: BackoffOptions;
  signal: AbortSignal;
  /** Lets an event cut the current delay short (e.g. a health_status event); returns an unsubscribe. */
  wake?: (wakeUp: () => void) => () => void;
}

/**
 * Calls `probe` until it answers true, sleeping with backoff in between. A thrown error ends the
 * poll (the probe decides what is fatal); an abort rejects with the signal's reason.
 */
export async function pollUntil(probe: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const delays = backoffDelays(options.backoff);
  for (;;) {
    options.signal.throwIfAborted();
    if (await probe()) return;
    // A wake-up or an abort ends the pause quietly; the check at the top of the loop rejects with
    // the abort's reason. The listener on the caller's signal goes with each pause (a signal made
    // by AbortSignal.any would keep one per pause on it until garbage collection).
    const woken = new AbortController();
    const wakeUp = () => woken.abort();
    const unsubscribe = options.wake?.(wakeUp);
    options.signal.addEventListener("abort", wakeUp, { once: true });
    try {
      await pause(delays.next().value, woken.signal);
    } finally {
      options.signal.removeEventListener("abort", wakeUp);
      unsubscribe?.();
    }
  }
}

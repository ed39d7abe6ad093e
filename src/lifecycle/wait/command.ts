// Waits until a command run inside the container exits 0. Each probe is three API calls, so the
// backoff starts gentler than the host-side checks.
import { pollUntil } from "../backoff.js";
import type { WaitStrategy, WaitTarget } from "./types.js";

export function commandWait(command: string[]): WaitStrategy {
  let last: string | undefined;
  return {
    description: `command ${command.join(" ")}`,
    lastProbe: () => last,
    async wait(target: WaitTarget, signal: AbortSignal) {
      await pollUntil(
        async () => {
          last ??= "no result yet (the first run had not finished)";
          const result = await target.engine.exec(target.containerId, command, { signal });
          const output = `${result.stdout}${result.stderr}`.trim();
          last = `exit ${result.exitCode}: ${output || "(no output)"}`;
          return result.exitCode === 0;
        },
        { backoff: { initialMs: 100, factor: 2, maxMs: 2_000 }, signal },
      );
    },
  };
}

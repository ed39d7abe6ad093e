// Waits until the container's output matches a pattern (a number of times), following the log
// stream from the container's start, so a line printed before the wait began still counts.
import { ConfigError } from "../../engine/errors.js";
import { NotReadyError, type WaitStrategy, type WaitTarget } from "./types.js";

export function logWait(pattern: string, times = 1): WaitStrategy {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    throw new ConfigError(`Invalid log pattern \`${pattern}\`: ${(error as Error).message}`, {
      resource: pattern,
      hint: "x-berth wait log patterns are JavaScript regular expressions.",
    });
  }
  let seen = 0;
  let lastLine: string | undefined;
  const lastProbe = () =>
    lastLine === undefined ? undefined : `${seen}/${times} matches; last line: ${lastLine}`;
  return {
    description: times > 1 ? `log /${pattern}/ x${times}` : `log /${pattern}/`,
    lastProbe,
    async wait(target: WaitTarget, signal: AbortSignal) {
      const stream = await target.engine.followLogs(target.containerId, { tail: "all", signal });
      let pending = "";
      try {
        for await (const chunk of stream as AsyncIterable<Buffer | string>) {
          pending += chunk.toString();
          const lines = pending.split("\n");
          pending = lines.pop() ?? "";
          for (const line of lines) {
            lastLine = line;
            if (regex.test(line)) seen++;
            if (seen >= times) return;
          }
        }
      } finally {
        stream.destroy();
      }
      signal.throwIfAborted();
      if (pending !== "" && regex.test(pending) && ++seen >= times) return;
      throw new NotReadyError("exited", `its output ended before matching /${pattern}/`, lastProbe());
    },
  };
}

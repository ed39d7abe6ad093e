// The owner-to-watchdog protocol: newline-delimited JSON on the watchdog's stdin. The pipe itself
// is the binding: when the owner dies, however it dies, the kernel closes it and the watchdog
// reads end-of-file. Pure, so the parsing and the bookkeeping are unit-tested.

/** The first line the watchdog writes to stdout once it is listening. */
export const WATCHDOG_READY = "berth-watchdog ready";

export type WatchdogMessage =
  /** Guard this session: if the owner dies, remove everything labelled with it on `dockerHost`. */
  | { op: "guard"; session: string; dockerHost: string }
  /** The owner ended or detached the session: do nothing for it any more. */
  | { op: "release"; session: string };

export function encodeMessage(message: WatchdogMessage): string {
  return `${JSON.stringify(message)}\n`;
}

export function parseMessage(line: string): WatchdogMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const m = value as Partial<{ op: string; session: string; dockerHost: string }>;
  if (typeof m?.session !== "string" || m.session === "") return undefined;
  if (m.op === "guard" && typeof m.dockerHost === "string" && m.dockerHost !== "") {
    return { op: "guard", session: m.session, dockerHost: m.dockerHost };
  }
  if (m.op === "release") return { op: "release", session: m.session };
  return undefined;
}

/** Applies one message to the watchdog's book of guarded sessions (session id -> docker host). */
export function applyMessage(guarded: Map<string, string>, message: WatchdogMessage): void {
  if (message.op === "guard") guarded.set(message.session, message.dockerHost);
  else guarded.delete(message.session);
}

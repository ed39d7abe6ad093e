// The owner-to-watchdog protocol: newline-delimited JSON on the watchdog's stdin. The pipe itself
// is the binding: when the owner dies, however it dies, the kernel closes it and the watchdog
// reads end-of-file. Pure, so the parsing and the bookkeeping are unit-tested.
import type { Lease } from "./lease.js";

/** The first line the watchdog writes to stdout once it is listening. */
export const WATCHDOG_READY = "berth-watchdog ready";

export type WatchdogMessage =
  /** Guard this session: if the owner dies, remove everything labelled with it on `dockerHost`. */
  | { op: "guard"; session: string; dockerHost: string }
  /**
   * Hold a lease on a reusable environment: if the owner dies, release the lease (the environment
   * stays for the next owner). `session` is the entry's id in the book (`lease:<session>`).
   */
  | { op: "lease"; session: string; dockerHost: string; lease: Lease }
  /** The owner ended or detached the session (or released the lease): do nothing for it any more. */
  | { op: "release"; session: string };

/** What the watchdog does for an entry when the owner dies. */
export type GuardEntry = { dockerHost: string; lease?: Lease };

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
  const lease = (value as { lease?: Partial<Lease> }).lease;
  if (
    m.op === "lease" &&
    typeof m.dockerHost === "string" &&
    m.dockerHost !== "" &&
    typeof lease?.session === "string" &&
    typeof lease.project === "string" &&
    typeof lease.image === "string" &&
    typeof lease.generation === "number" &&
    typeof lease.containerId === "string" &&
    typeof lease.labels === "object" &&
    lease.labels !== null
  ) {
    return { op: "lease", session: m.session, dockerHost: m.dockerHost, lease: lease as Lease };
  }
  return undefined;
}

/** Applies one message to the watchdog's book: session id (or `lease:<session>`) -> what to do. */
export function applyMessage(guarded: Map<string, GuardEntry>, message: WatchdogMessage): void {
  if (message.op === "guard") guarded.set(message.session, { dockerHost: message.dockerHost });
  else if (message.op === "lease")
    guarded.set(message.session, { dockerHost: message.dockerHost, lease: message.lease });
  else guarded.delete(message.session);
}

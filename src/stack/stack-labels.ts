// Labels the stack layer adds beside the session's ownership labels, so `down`, `ps` and `logs`
// can work from the daemon alone (another process, no compose file at hand).
export const STACK_LABELS = {
  /** Services this container's service depends on, comma-separated: `down` stops dependents first. */
  dependsOn: "berth.depends-on",
  /** `true` on services expected to run to completion (a `service_completed_successfully` target). */
  oneShot: "berth.one-shot",
  /** `anonymous` or `named` on volumes, so `down` keeps named ones unless asked. */
  volumeKind: "berth.volume-kind",
  /** The network's or volume's key in the compose file. */
  key: "berth.key",
  /**
   * On images berth built: the hash of the build inputs (context, args, the ids of the images it
   * is built FROM), so an unchanged build is reused.
   */
  buildHash: "berth.build-hash",
} as const;

export function parseDependsOnLabel(value: string | undefined): string[] {
  return value ? value.split(",").filter((s) => s !== "") : [];
}

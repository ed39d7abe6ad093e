// The janitor's typed errors: each names the resources involved and what a person can do next.
import { BerthError, type BerthErrorDetails, ConfigError } from "../engine/errors.js";

/** One resource the daemon still holds, as leak checks and gc report it. */
export interface ResourceRef {
  kind: "container" | "network" | "volume";
  /** Container and network id; the name for volumes (they have no separate id). */
  id: string;
  name: string;
  labels: Record<string, string>;
}

export function describeResource(resource: ResourceRef): string {
  const id =
    resource.kind === "volume" || resource.id === resource.name ? "" : ` (${resource.id.slice(0, 12)})`;
  return `${resource.kind} ${resource.name}${id}`;
}

/** Resources were left behind: by a test run, a CLI invocation, or whatever the check watched. */
export class LeakDetectedError extends BerthError {
  override readonly code = "BERTH_LEAK_DETECTED";
  declare readonly leaks: ResourceRef[];
  constructor(leaks: ResourceRef[], details: BerthErrorDetails = {}) {
    super(
      `Leak check: ${leaks.length} resource(s) left behind:\n  ${leaks.map(describeResource).join("\n  ")}`,
      {
        hint: "Each leak's labels say which session and owner created it; `berth gc` removes those of dead owners.",
        ...details,
      },
    );
    this.withFacts({ leaks });
  }
}

/** Creating a network failed because Docker's address pools are used up, and gc did not free one. */
export class AddressPoolsExhaustedError extends BerthError {
  override readonly code = "BERTH_ADDRESS_POOLS_EXHAUSTED";
  /** Networks on the daemon when berth gave up (all drivers, predefined ones included). */
  declare readonly networkCount: number;
  /** Of those, networks labelled by berth. */
  declare readonly berthNetworkCount: number;
  /** Networks the recovery gc removed before the retry. */
  declare readonly reclaimedNetworks: number;
  constructor(
    network: string,
    counts: { networkCount: number; berthNetworkCount: number; reclaimedNetworks: number },
    details: BerthErrorDetails = {},
  ) {
    super(
      `Cannot create network ${network}: the daemon's address pools are exhausted ` +
        `(${counts.networkCount} networks exist, ${counts.berthNetworkCount} of them berth's; ` +
        `gc removed ${counts.reclaimedNetworks} network(s) of dead sessions and the retry failed too)`,
      {
        resource: network,
        hint:
          "Run `berth gc --dry-run` to see what holds the pools and `berth gc` to remove leftovers of dead " +
          "sessions (`berth gc --older-than 1h` also removes detached environments); remove other unused " +
          'networks (`docker network ls`), or give the daemon more room with "default-address-pools" in daemon.json.',
        ...details,
      },
    );
    const { networkCount, berthNetworkCount, reclaimedNetworks } = counts;
    this.withFacts({ networkCount, berthNetworkCount, reclaimedNetworks });
  }
}

/** The reaper watchdog could not be started, so a session would run unguarded. */
export class ReaperUnavailableError extends BerthError {
  override readonly code = "BERTH_REAPER_UNAVAILABLE";
}

/** A session was asked to do something its state does not allow (detach without intent, create after end). */
export class SessionStateError extends ConfigError {
  override readonly code = "BERTH_SESSION_STATE";
}

/** A snapshot file that cannot be read or is not a berth snapshot. */
export class SnapshotFileError extends ConfigError {
  override readonly code = "BERTH_SNAPSHOT_FILE";
}

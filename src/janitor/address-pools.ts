// Network creation that survives exhausted address pools. Docker carves bridge networks out of a
// few default pools (about 31 networks); leftovers of crashed runs use them up and then every run
// fails. On exhaustion berth removes dead sessions' networks (gc) and tries once more.

import type { Engine } from "../engine/engine.js";
import { BerthError } from "../engine/errors.js";
import type { NetworkCreateSpec } from "../engine/types.js";
import { LABELS } from "../model/labels.js";
import { AddressPoolsExhaustedError } from "./errors.js";
import { type GcReport, gc } from "./gc.js";

const EXHAUSTED = [
  // Engine 26 and older answer 404 with this.
  /could not find an available, non-overlapping ipv4 address pool/i,
  // Newer engines answer 400 with this.
  /all predefined address pools have been fully subnetted/i,
];

/** True when a network create failed because no subnet was left in the daemon's pools. */
export function isAddressPoolExhausted(error: unknown): boolean {
  const texts =
    error instanceof BerthError ? [error.apiMessage, error.message] : [(error as Error | undefined)?.message];
  return texts.some((text) => typeof text === "string" && EXHAUSTED.some((re) => re.test(text)));
}

interface NetworkRecoveryOptions {
  /** Host name for the ownership check (default: this host's). */
  host?: string;
}

interface CreatedNetwork {
  id: string;
  /** The gc that ran because the pools were exhausted; absent when the first attempt worked. */
  recovery?: GcReport;
}

export async function createNetworkWithRecovery(
  engine: Engine,
  spec: NetworkCreateSpec,
  options: NetworkRecoveryOptions = {},
): Promise<CreatedNetwork> {
  try {
    return await engine.createNetwork(spec);
  } catch (error) {
    if (!isAddressPoolExhausted(error)) throw error;
  }
  const recovery = await gc(engine, { onlyWithNetworks: true, host: options.host });
  try {
    const { id } = await engine.createNetwork(spec);
    return { id, recovery };
  } catch (error) {
    if (!isAddressPoolExhausted(error)) throw error;
    const networks = await engine.listNetworks();
    throw new AddressPoolsExhaustedError(
      spec.Name,
      {
        networkCount: networks.length,
        berthNetworkCount: networks.filter((n) => n.Labels?.[LABELS.session] !== undefined).length,
        reclaimedNetworks: recovery.counts.networks,
      },
      { operation: "network.create", cause: error },
    );
  }
}

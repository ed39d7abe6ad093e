// Claims on pooled networks. Labels cannot change once a network exists, so who holds a pooled
// network is written beside it, in a directory every berth process on this host shares: one small
// file per claim generation, `<network>.<generation>.json`. Taking a network creates the next
// generation's file with O_EXCL, so of two processes asking at once exactly one wins, and a
// crashed holder needs no lock to be broken: its `take` is simply outranked by the next one.
// Returning a network writes a `release` generation. The highest generation tells the state.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OwnerState } from "../model/ownership.js";

export interface ClaimRecord {
  network: string;
  generation: number;
  state: "take" | "release";
  /** `berth.owner` form of the process that wrote it. */
  owner: string;
  session?: string;
  project?: string;
  /** When it was written, ms since the epoch. */
  at: number;
}

export function poolDirFromEnv(env: Record<string, string | undefined> = process.env): string {
  return env.BERTH_NETWORK_POOL_DIR?.trim() || join(tmpdir(), "berth-network-pool");
}

const FILE = /^(.+)\.(\d+)\.json$/;

/** The highest generation of every network that has claim files in `dir`. */
export function readClaims(dir: string): Map<string, ClaimRecord> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return new Map();
  }
  const top = new Map<string, number>();
  for (const name of names) {
    const match = FILE.exec(name);
    if (!match) continue;
    const generation = Number(match[2]);
    if (generation > (top.get(match[1]!) ?? 0)) top.set(match[1]!, generation);
  }
  const records = new Map<string, ClaimRecord>();
  for (const [network, generation] of top) {
    try {
      const record = JSON.parse(readFileSync(join(dir, `${network}.${generation}.json`), "utf8"));
      records.set(network, { ...record, network, generation });
    } catch {
      // Being written this instant (the create and the write are two steps): a held claim.
      records.set(network, { network, generation, state: "take", owner: "", at: Date.now() });
    }
  }
  return records;
}

/** Writes the next generation; false when another process wrote it first. */
export function writeClaim(dir: string, record: ClaimRecord): boolean {
  mkdirSync(dir, { recursive: true });
  let fd: number;
  try {
    fd = openSync(join(dir, `${record.network}.${record.generation}.json`), "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    const { network: _n, generation: _g, ...body } = record;
    writeSync(fd, JSON.stringify(body));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a network's claim files below `generation` (all of them when omitted). */
export function pruneClaims(dir: string, network: string, generation = Number.POSITIVE_INFINITY): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = FILE.exec(name);
    if (match?.[1] === network && Number(match[2]) < generation) rmSync(join(dir, name), { force: true });
  }
}

/**
 * What a claim record means, pure. `free`: never claimed, or returned. `held`: taken by an owner
 * that is alive, or cannot be checked from here (another host, unreadable). `orphaned`: taken by
 * an owner that died; it is free only once nothing is attached to the network (a detached
 * `berth up` exits while its environment runs on), which the caller checks on the daemon.
 */
export function claimStatus(
  record: ClaimRecord | undefined,
  ownerState: OwnerState,
): "free" | "held" | "orphaned" {
  if (!record || record.state === "release") return "free";
  return ownerState === "dead" ? "orphaned" : "held";
}

/**
 * True when no generation above `generation` exists. A writer checks this after its write: a
 * process that read the directory before a prune may write a generation that was already passed.
 */
export function isTopGeneration(dir: string, network: string, generation: number): boolean {
  try {
    return !readdirSync(dir).some((name) => {
      const match = FILE.exec(name);
      return match?.[1] === network && Number(match[2]) > generation;
    });
  } catch {
    return false;
  }
}

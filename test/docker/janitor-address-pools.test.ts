// Address-pool exhaustion on a private dockerd whose only pool holds four /28 networks (the shared
// daemon is never filled: other tests run against it). A dead owner's networks fill the pool;
// createNetworkWithRecovery collects them and succeeds. Live owners' networks fill it again; then
// the clear error, with the counts and the advice to run `berth gc`.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import {
  type PrivateDaemon,
  privateDaemonUnavailable,
  startPrivateDaemon,
} from "../../src/fixtures/private-daemon.js";
import { createNetworkWithRecovery, isAddressPoolExhausted } from "../../src/janitor/address-pools.js";
import { AddressPoolsExhaustedError } from "../../src/janitor/errors.js";
import { LABELS, type OwnerIdentity, sessionLabels } from "../../src/model/labels.js";

const unavailable = privateDaemonUnavailable();
const deadOwner: OwnerIdentity = {
  host: hostname(),
  pid: Number(execFileSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).trim()),
  startTime: "1",
};
const name = (what: string) => `berth-pool-${what}-${randomUUID().slice(0, 8)}`;

/** Creates labelled networks until the pool refuses; answers how many fitted. */
async function fillPool(engine: Engine, labels: Record<string, string>): Promise<number> {
  for (let created = 0; created < 64; created++) {
    try {
      await engine.createNetwork({ Name: name("fill"), Labels: labels, CheckDuplicate: true });
    } catch (error) {
      expect(isAddressPoolExhausted(error)).toBe(true);
      return created;
    }
  }
  throw new Error("the private daemon's pool never ran out");
}

describe.skipIf(unavailable !== undefined)("address pools on a private dockerd with a tiny pool", () => {
  let daemon: PrivateDaemon;

  let hostHadDocker0 = false;

  beforeAll(async () => {
    hostHadDocker0 = existsSync("/sys/class/net/docker0");
    daemon = await startPrivateDaemon({
      addressPool: { base: `10.213.${Math.floor(Math.random() * 256)}.0/26`, size: 28 },
    });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it("gc recovers the networks of a dead session and the create succeeds on the retry", async () => {
    const dead = sessionLabels({
      session: `dead${randomUUID().slice(0, 8)}`,
      project: "pool-dead",
      owner: deadOwner,
    });
    const filled = await fillPool(daemon.engine, dead);
    expect(filled).toBeGreaterThan(0);

    const live = sessionLabels({ session: `live${randomUUID().slice(0, 8)}`, project: "pool-live" });
    const created = await createNetworkWithRecovery(daemon.engine, {
      Name: name("live"),
      Labels: live,
      CheckDuplicate: true,
    });
    expect(created.id).toBeTruthy();
    expect(created.recovery?.counts.networks).toBe(filled);
    const left = await daemon.engine.listNetworks({ label: [`${LABELS.session}=${dead[LABELS.session]}`] });
    expect(left).toEqual([]);
  });

  it("with live sessions holding every subnet, fails clearly: counts and the advice to run berth gc", async () => {
    const live = sessionLabels({ session: `live${randomUUID().slice(0, 8)}`, project: "pool-live-2" });
    await fillPool(daemon.engine, live);
    const all = await daemon.engine.listNetworks();
    const berths = all.filter((n) => n.Labels?.[LABELS.session] !== undefined).length;

    const error = await createNetworkWithRecovery(daemon.engine, {
      Name: name("one-too-many"),
      Labels: live,
      CheckDuplicate: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AddressPoolsExhaustedError);
    const e = error as AddressPoolsExhaustedError;
    expect(e.code).toBe("BERTH_ADDRESS_POOLS_EXHAUSTED");
    expect(e.networkCount).toBe(all.length);
    expect(e.berthNetworkCount).toBe(berths);
    expect(e.reclaimedNetworks).toBe(0);
    expect(e.message).toContain(`${all.length} networks exist`);
    expect(e.hint).toContain("berth gc");
    // Live sessions were left alone.
    expect((await daemon.engine.listNetworks()).length).toBe(all.length);
  });

  it("leaves the host's docker0 alone (a private dockerd with --bridge=none deletes it outside a netns)", () => {
    // The shared daemon's default bridge must survive the private daemon's start-up.
    expect(hostHadDocker0).toBe(true);
    expect(existsSync("/sys/class/net/docker0")).toBe(true);
  });
});

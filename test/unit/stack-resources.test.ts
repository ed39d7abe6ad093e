// A stack's project network goes through the janitor's address-pool recovery: when the daemon's
// pools are exhausted, dead sessions' networks are reclaimed and the create tried once more; if
// that is not enough, the error says so clearly. A fake engine stands in for the daemon.
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { AddressPoolsExhaustedError } from "../../src/janitor/errors.js";
import type { Session } from "../../src/janitor/session.js";
import { formatOwner, LABELS } from "../../src/model/labels.js";
import { defineProject } from "../../src/stack/builder.js";
import { createProjectResources } from "../../src/stack/resources.js";

const EXHAUSTED = "could not find an available, non-overlapping ipv4 address pool among the defaults";

// An owner on this host whose process is gone: its session is garbage.
const deadOwner = formatOwner({ host: hostname(), pid: 2 ** 22 + 17, startTime: "1" });

function fakeEngine(failures: number) {
  const calls = { creates: [] as string[], removedNetworks: [] as string[] };
  let left = failures;
  const deadNetwork = {
    Id: "dead0000net",
    Name: "old-run_default",
    Labels: { [LABELS.session]: "deadsession", [LABELS.owner]: deadOwner },
  };
  const engine = {
    createNetwork: async (spec: { Name: string }) => {
      calls.creates.push(spec.Name);
      if (left-- > 0) throw new Error(EXHAUSTED);
      return { id: `id-${spec.Name}` };
    },
    listContainers: async () => [],
    listVolumes: async () => [],
    listNetworks: async () => (calls.removedNetworks.includes(deadNetwork.Id) ? [] : [deadNetwork]),
    removeNetwork: async (id: string) => {
      calls.removedNetworks.push(id);
    },
  } as unknown as Engine;
  return { engine, calls };
}

function fakeSession(engine: Engine): Session {
  return {
    id: "s1",
    project: "proj",
    engine,
    labels: () => ({ [LABELS.session]: "s1", [LABELS.project]: "proj" }),
    beforeCreate: async () => {},
  } as unknown as Session;
}

const project = defineProject({ services: { app: { image: "img" } } });

describe("project network creation", () => {
  it("reclaims dead sessions' networks when the address pools are exhausted, then creates it", async () => {
    const { engine, calls } = fakeEngine(1);
    const resources = await createProjectResources(engine, fakeSession(engine), project);
    expect(resources.networks).toEqual({ default: "proj_default" });
    expect(calls.creates).toEqual(["proj_default", "proj_default"]);
    expect(calls.removedNetworks).toEqual(["dead0000net"]);
  });

  it("reports exhausted pools clearly when the recovery is not enough", async () => {
    const { engine, calls } = fakeEngine(2);
    const error = await createProjectResources(engine, fakeSession(engine), project).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AddressPoolsExhaustedError);
    expect(error).toMatchObject({ reclaimedNetworks: 1 });
    expect(calls.creates).toHaveLength(2);
  });
});

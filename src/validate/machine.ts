// The facts about the machine and daemon a validation ran on, so a report can be read (and two
// reports compared) knowing what they measured.
import { cpus, hostname, release, totalmem, type } from "node:os";
import type { Engine } from "../engine/engine.js";
import { identifyEngine } from "../engine/identity.js";
import type { MachineFacts } from "./model.js";

export async function machineFacts(engine: Engine, limiter: string): Promise<MachineFacts> {
  const [version, info] = await Promise.all([engine.version(), engine.info()]);
  const identity = identifyEngine(version, info);
  const text = (value: unknown, fallback = "unknown") =>
    typeof value === "string" && value !== "" ? value : fallback;
  return {
    hostname: hostname(),
    os: text(info.OperatingSystem, type()),
    kernel: text(info.KernelVersion, release()),
    cpus: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    dockerHost: engine.endpoint.url,
    endpointSource: engine.endpoint.source,
    engine: identity.name,
    engineVersion: identity.version,
    apiVersion: text(version.ApiVersion),
    cgroupVersion: text(info.CgroupVersion, "1"),
    cgroupDriver: text(info.CgroupDriver),
    storageDriver: text(info.Driver),
    rootless: identity.rootless,
    daemonCpus: typeof info.NCPU === "number" ? info.NCPU : 0,
    daemonMemoryBytes: typeof info.MemTotal === "number" ? info.MemTotal : 0,
    limiter,
  };
}

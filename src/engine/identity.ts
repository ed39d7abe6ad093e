// Which engine answers behind the endpoint (Docker or Podman), its versions and the facts about
// it that change what berth can do there: cgroup version, storage driver, rootless. The rule is
// pure (`identifyEngine`); `engineIdentity` asks the engine once and remembers the answer.
import type { Engine } from "./engine.js";

export type EngineKind = "docker" | "podman";

export interface EngineIdentity {
  kind: EngineKind;
  /** `Docker Engine` or `Podman`. */
  name: string;
  version: string;
  apiVersion: string;
  os: string;
  kernel: string;
  cgroupVersion: string;
  cgroupDriver: string;
  storageDriver: string;
  rootless: boolean;
}

interface VersionAnswer {
  Version?: string;
  ApiVersion?: string;
  KernelVersion?: string;
  Components?: Array<{ Name?: string; Version?: string }>;
}

const text = (value: unknown, fallback = "unknown"): string =>
  typeof value === "string" && value !== "" ? value : fallback;

const podmanComponent = (version: VersionAnswer) =>
  (version.Components ?? []).find((c) => /podman/i.test(c.Name ?? ""));

/** Decides the engine from its `/version` and `/info` answers. */
export function identifyEngine(version: VersionAnswer, info: Record<string, unknown>): EngineIdentity {
  const podman = podmanComponent(version);
  const security = Array.isArray(info.SecurityOptions) ? (info.SecurityOptions as unknown[]) : [];
  return {
    kind: podman ? "podman" : "docker",
    name: podman ? "Podman" : "Docker Engine",
    version: text(podman?.Version ?? version.Version),
    apiVersion: text(version.ApiVersion),
    os: text(info.OperatingSystem),
    kernel: text(info.KernelVersion ?? version.KernelVersion),
    cgroupVersion: text(info.CgroupVersion, "1"),
    cgroupDriver: text(info.CgroupDriver),
    storageDriver: text(info.Driver),
    rootless: security.some((option) => typeof option === "string" && /(^|,)name=rootless(,|$)/.test(option)),
  };
}

/** Asks once per Engine; a failed question is asked again next time. */
function oncePerEngine<T>(ask: (engine: Engine) => Promise<T>): (engine: Engine) => Promise<T> {
  const known = new WeakMap<Engine, Promise<T>>();
  return (engine) => {
    let answer = known.get(engine);
    if (!answer) {
      answer = ask(engine);
      answer.catch(() => known.delete(engine));
      known.set(engine, answer);
    }
    return answer;
  };
}

/**
 * The engine's `/version` answer, asked once per Engine: its API version and kind come from it,
 * so `up` asks the daemon once for both (`/info`, a slower answer, only where more is needed).
 */
export const engineVersion: (engine: Engine) => Promise<VersionAnswer> = oncePerEngine((engine) =>
  engine.version(),
);

/** Docker or Podman, from `/version` alone. */
export async function engineKind(engine: Engine): Promise<EngineKind> {
  return podmanComponent(await engineVersion(engine)) ? "podman" : "docker";
}

/** The engine's identity, asked once per Engine (a failed question is asked again next time). */
export const engineIdentity: (engine: Engine) => Promise<EngineIdentity> = oncePerEngine(async (engine) => {
  const [version, info] = await Promise.all([engineVersion(engine), engine.info()]);
  return identifyEngine(version, info);
});

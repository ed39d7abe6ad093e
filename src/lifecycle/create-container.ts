// Creates a container under a fixed name. When the name is taken: a leftover of a dead berth
// session (owner dead, not detached) is removed safely and the create tried again; our own session's container (a create
// that succeeded although its answer was lost) is adopted; anything else is an error that says
// what holds the name.

import type { Engine } from "../engine/engine.js";
import { BerthError, ConflictError } from "../engine/errors.js";
import { engineKind } from "../engine/identity.js";
import type { ContainerCreateSpec, ContainerInspect } from "../engine/types.js";
import { LABELS } from "../model/labels.js";
import { isReclaimable } from "../model/ownership.js";
import { type RemovalRecord, safeRemove } from "./safe-remove.js";
import { podmanHealthcheckTest } from "./wait/podman-health.js";

export class NameConflictError extends BerthError {
  override readonly code = "BERTH_NAME_CONFLICT";
  readonly kind: "container" | "network";
  readonly resourceName: string;
  readonly holder: string;
  constructor(kind: "container" | "network", resourceName: string, holder: string, hint: string) {
    super(`The ${kind} name ${resourceName} is already in use by ${holder}`, {
      resource: resourceName,
      hint,
    });
    this.kind = kind;
    this.resourceName = resourceName;
    this.holder = holder;
  }
}

function describeHolder(info: ContainerInspect): string {
  const labels = info.Config.Labels ?? {};
  const parts = [`container ${info.Id.slice(0, 12)} (${info.State.Status})`];
  if (labels[LABELS.session]) {
    parts.push(
      `of berth project ${labels[LABELS.project] ?? "?"}, session ${labels[LABELS.session]}, owner ${labels[LABELS.owner] ?? "?"}`,
    );
  } else {
    parts.push("not created by berth");
  }
  return parts.join(" ");
}

interface CreateNamedOptions {
  /** The session creating it: a holder from this session is adopted. */
  session: string;
  signal?: AbortSignal;
}

interface CreatedContainer {
  id: string;
  /** A leftover removed to free the name. */
  replaced?: RemovalRecord;
  adopted: boolean;
}

export async function createNamedContainer(
  engine: Engine,
  body: ContainerCreateSpec & { name: string },
  options: CreateNamedOptions,
): Promise<CreatedContainer> {
  let replaced: RemovalRecord | undefined;
  if (body.Healthcheck?.Test && (await engineKind(engine)) === "podman") {
    body = {
      ...body,
      Healthcheck: { ...body.Healthcheck, Test: podmanHealthcheckTest(body.Healthcheck.Test) },
    };
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const { id } = await engine.createContainer(body, options.signal);
      return { id, adopted: false, ...(replaced ? { replaced } : {}) };
    } catch (error) {
      if (!(error instanceof ConflictError) || error.reason !== "name-in-use" || attempt >= 2) throw error;
    }
    const holder = await engine.findContainer(body.name, options.signal);
    if (!holder) continue;
    const labels = holder.Config.Labels ?? {};
    if (labels[LABELS.session] === options.session) return { id: holder.Id, adopted: true };
    if (!labels[LABELS.session] || !isReclaimable(labels)) {
      throw new NameConflictError(
        "container",
        body.name,
        describeHolder(holder),
        labels[LABELS.session]
          ? `That environment is still owned by a live process or was started with \`berth up\`; stop it with \`berth down -p ${labels[LABELS.project] ?? "PROJECT"}\` or choose another project name (-p).`
          : "Remove that container or choose another project name (-p).",
      );
    }
    replaced = await safeRemove(engine, holder.Id, { signal: options.signal });
  }
}

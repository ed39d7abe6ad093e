// A project's resources as the daemon knows them, selected by label (project or session):
// the source of truth for `down`, `ps`, `logs` and the rollback, whatever process asks.

import type { Engine } from "../engine/engine.js";
import { ConfigError } from "../engine/errors.js";
import { type LabelledResources, listLabelled } from "../janitor/inventory.js";
import { LABELS } from "../model/labels.js";

export interface ProjectSelector {
  project?: string;
  session?: string;
}

export type ProjectInventory = LabelledResources;

export function selectorLabel(selector: ProjectSelector): string {
  if (selector.session) return `${LABELS.session}=${selector.session}`;
  if (selector.project) return `${LABELS.project}=${selector.project}`;
  throw new ConfigError("Name the environment: a project (-p PROJECT) or a session (--session ID)", {
    hint: "`berth ps` lists the running environments.",
  });
}

export function describeSelector(selector: ProjectSelector): string {
  return selector.session ? `session ${selector.session}` : `project ${selector.project}`;
}

export async function projectInventory(engine: Engine, selector: ProjectSelector): Promise<ProjectInventory> {
  return listLabelled(engine, [selectorLabel(selector)]);
}

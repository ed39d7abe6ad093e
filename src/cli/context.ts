// What every command shares: the engine it talks through and its global flags.
import { Engine } from "../engine/engine.js";

export interface GlobalOptions {
  verbose?: boolean;
}

export function createCliEngine(_options: GlobalOptions = {}): Engine {
  return new Engine();
}

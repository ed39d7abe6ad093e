// The engine the library uses when the caller gives none.
import type { Engine } from "../engine/engine.js";
import { createEngine } from "./guard.js";

let shared: Engine | undefined;

/**
 * One guarded engine per process, so every environment of a test run shares one limiter and the
 * daemon sees one well-behaved client.
 */
export function defaultEngine(): Engine {
  shared ??= createEngine();
  return shared;
}

// `extends`: a service starts from another service's definition (in the same file, or in another
// file whose relative paths stay relative to that file) and its own keys are merged on top with
// the rules of several -f files. Chains are followed; a cycle is refused where it closes.
import { dirname } from "node:path";
import { ComposeError, displayFile } from "./errors.js";
import type { FileContext } from "./file-context.js";
import type { ServiceLayer } from "./layer.js";
import { loadFile } from "./load-file.js";
import { mergeLayers } from "./merge.js";
import { readComposeSource } from "./source.js";
import { collectIgnoreRules, emptyIgnoreRules } from "./supported-keys.js";

type Interpolation = Parameters<typeof loadFile>[1];

/** Other files' services, loaded once per load and resolved in their own file. */
type FileCache = Map<string, Promise<Map<string, ServiceLayer>>>;

async function loadOtherFile(
  file: string,
  from: FileContext,
  interpolation: Interpolation,
  cache: FileCache,
  chain: string[],
): Promise<Map<string, ServiceLayer>> {
  let loaded = cache.get(file);
  if (!loaded) {
    loaded = (async () => {
      const source = await readComposeSource(file, from.reader);
      const context: FileContext = {
        ...from,
        source,
        projectDir: dirname(file),
        ignoreRules: emptyIgnoreRules(),
      };
      collectIgnoreRules(context, source.value, context.ignoreRules);
      const layers = loadFile(context, interpolation).services;
      const resolved = await resolveAll(layers, context, interpolation, cache, chain);
      return new Map(resolved.map((layer) => [layer.name, layer]));
    })();
    cache.set(file, loaded);
  }
  return loaded;
}

async function resolveAll(
  layers: ServiceLayer[],
  context: FileContext,
  interpolation: Interpolation,
  cache: FileCache,
  chain: string[],
): Promise<ServiceLayer[]> {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const done = new Map<string, ServiceLayer>();
  const resolve = async (layer: ServiceLayer, stack: string[]): Promise<ServiceLayer> => {
    const known = done.get(layer.name);
    if (known) return known;
    const ref = layer.extends;
    if (!ref) return layer;
    const here = `${displayFile(context.source.file)}:${layer.name}`;
    if (stack.includes(here)) {
      throw ComposeError.at(ref.location, `extends cycle: ${[...stack, here].join(" -> ")}`, {
        hint: "A service cannot extend itself, directly or through others.",
      });
    }
    let base: ServiceLayer | undefined;
    if (ref.file === undefined || ref.file === context.source.file) {
      const target = byName.get(ref.service);
      base = target && (await resolve(target, [...stack, here]));
    } else {
      if (chain.includes(ref.file)) {
        throw ComposeError.at(ref.location, `extends cycle through ${displayFile(ref.file)}`, {
          hint: "Two files cannot extend services of each other in a loop.",
        });
      }
      const other = await loadOtherFile(ref.file, context, interpolation, cache, [
        ...chain,
        context.source.file,
      ]);
      base = other.get(ref.service);
    }
    if (!base) {
      const where = ref.file ? ` in ${displayFile(ref.file)}` : "";
      throw ComposeError.at(ref.location, `extends unknown service ${ref.service}${where}`, {
        value: ref.service,
        hint: ref.file
          ? "Check the service name and the file path (relative to this file)."
          : `Services in this file: ${[...byName.keys()].join(", ")}.`,
      });
    }
    const start: ServiceLayer = {
      ...base,
      name: layer.name,
      location: layer.location,
      reset: new Set(),
      override: new Set(),
    };
    delete start.extends;
    const merged = mergeLayers(start, layer);
    done.set(layer.name, merged);
    return merged;
  };
  const out: ServiceLayer[] = [];
  for (const layer of layers) out.push(await resolve(layer, []));
  return out;
}

/** Resolves every `extends` of one file's service layers; the result has none left. */
export function resolveExtends(
  layers: ServiceLayer[],
  context: FileContext,
  interpolation: Interpolation,
): Promise<ServiceLayer[]> {
  return resolveAll(layers, context, interpolation, new Map(), [context.source.file]);
}

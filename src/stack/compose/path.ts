// Paths inside a Compose file, as segments and as people read them: `services.api.ports[1]`.

export type PathSegment = string | number;
export type YamlPath = readonly PathSegment[];

/** `["services", "api", "ports", 1]` -> `services.api.ports[1]`; odd keys are quoted. */
export function formatPath(path: YamlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

// The files Compose reads when no -f is given: the first of compose.yaml, compose.yml,
// docker-compose.yaml, docker-compose.yml, plus its `.override` companion when there is one.
import { existsSync } from "node:fs";
import { join } from "node:path";

const CANDIDATES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

export function findDefaultComposeFiles(
  dir: string,
  exists: (path: string) => boolean = existsSync,
): string[] {
  const main = CANDIDATES.find((name) => exists(join(dir, name)));
  if (!main) return [];
  const extension = main.endsWith(".yaml") ? ".yaml" : ".yml";
  const override = main.replace(/\.ya?ml$/, `.override${extension}`);
  return exists(join(dir, override)) ? [join(dir, main), join(dir, override)] : [join(dir, main)];
}

// Image references as the docker CLI reads them: which registry an image comes from (Docker Hub
// unless the first component looks like a host), its repository path and its tag or digest. Pure.
import { ConfigError } from "../engine/errors.js";

export const DOCKER_HUB = "docker.io";
/** The key the docker CLI stores Docker Hub credentials under. */
const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";
/** Names that all mean Docker Hub, in a reference or in a config file's keys. */
const HUB_ALIASES = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
]);

export interface ImageReference {
  /** Registry host (and port): `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/redis`, `team/app`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** The reference as given. */
  raw: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

function refuse(raw: string, why: string): never {
  throw new ConfigError(`Invalid image reference \`${raw}\`: ${why}`, {
    resource: raw,
    hint: "Write it as [registry[:port]/]name[:tag][@digest], e.g. redis:7 or ghcr.io/team/app:1.2.",
  });
}

export function parseImageReference(raw: string): ImageReference {
  let rest = raw.trim();
  if (rest === "") refuse(raw, "it is empty");
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) refuse(raw, `\`${digest}\` is not a digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) refuse(raw, `\`${tag}\` is not a valid tag`);
  }
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const hasHost = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = hasHost ? first.toLowerCase() : DOCKER_HUB;
  let repository = hasHost ? rest.slice(slash + 1) : rest;
  if (HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  for (const component of repository.split("/")) {
    if (!COMPONENT.test(component)) refuse(raw, `\`${component}\` is not a valid name component`);
  }
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), raw };
}

/** The reference with its default tag made explicit: what the daemon stores after a pull. */
export function canonicalReference(ref: ImageReference): string {
  const name =
    ref.registry === DOCKER_HUB
      ? ref.repository.replace(/^library\//, "")
      : `${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${name}@${ref.digest}`;
  return `${name}:${ref.tag ?? "latest"}`;
}

/** The host a config file key names: `https://ghcr.io/v1/` and `ghcr.io` are both `ghcr.io`. */
export function hostOfConfigKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, "")
    .split("/")[0]!
    .toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** The server address the docker CLI uses for a registry: the Hub's v1 URL, else the host. */
export function serverAddressOf(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
}

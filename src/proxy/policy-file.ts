// Reads a proxy policy file (YAML or JSON) into a ProxyPolicy, refusing unknown fields and values
// with messages that name the file, the field and the value.
import { parse } from "yaml";
import * as z from "zod";
import { ConfigError } from "../engine/errors.js";
import { readConfigFile } from "../model/config-file.js";
import { ENDPOINT_GROUPS } from "./classify-request.js";
import { HOST_NAMESPACES, type HostNamespace, type ProxyPolicy } from "./policy.js";

export class PolicyFileError extends ConfigError {
  override readonly code = "BERTH_PROXY_POLICY";
}

const absolutePath = z.string().refine((p) => p.startsWith("/"), { message: "must be an absolute path" });

const PolicySchema = z.strictObject({
  deny: z
    .strictObject({
      privileged: z.boolean().optional(),
      /** `true` means network, pid and ipc. */
      hostNamespaces: z.union([z.boolean(), z.array(z.enum(HOST_NAMESPACES))]).optional(),
      endpoints: z.array(z.enum(ENDPOINT_GROUPS)).optional(),
    })
    .optional(),
  bindMounts: z.strictObject({ allowed: z.array(absolutePath) }).optional(),
});

const DEFAULT_HOST_NAMESPACES: HostNamespace[] = ["network", "pid", "ipc"];

/** Validates an already parsed policy document; `source` names it in messages. */
export function policyFromDocument(document: unknown, source: string): ProxyPolicy {
  const parsed = PolicySchema.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".") || "(top level)";
    throw new PolicyFileError(`Policy ${source}: field \`${field}\`: ${issue.message}`, {
      resource: source,
      hint: `Fields: deny.privileged, deny.hostNamespaces (${HOST_NAMESPACES.join(", ")}), deny.endpoints (${ENDPOINT_GROUPS.join(", ")}), bindMounts.allowed. See docs/proxy.md.`,
    });
  }
  const { deny = {}, bindMounts } = parsed.data;
  const namespaces = deny.hostNamespaces;
  return {
    source,
    denyPrivileged: deny.privileged ?? false,
    denyHostNamespaces:
      namespaces === true ? DEFAULT_HOST_NAMESPACES : namespaces === false ? [] : (namespaces ?? []),
    denyEndpoints: deny.endpoints ?? [],
    allowedBindPaths: bindMounts?.allowed,
  };
}

export function loadPolicyFile(path: string): ProxyPolicy {
  const document = readConfigFile(path, {
    what: "policy file",
    format: "YAML or JSON",
    parse,
    error: PolicyFileError,
  });
  return policyFromDocument(document, path);
}

// `deploy.replicas`: a service with N replicas runs as N services, the first under its own name
// and replica K as `NAME-K` (container `PROJECT-NAME-K`), each with its own dynamic host ports.
// Endpoints and dependencies address the first unless a caller names another. A service with 0
// replicas is not started. Pure: works on the model.
import { ConfigError } from "../engine/errors.js";
import type { ComposeProject, ServiceSpec } from "../model/compose.js";

export function expandReplicas(project: ComposeProject): ComposeProject {
  const services: Record<string, ServiceSpec> = {};
  const none = new Set(
    Object.values(project.services)
      .filter((s) => s.replicas === 0)
      .map((s) => s.name),
  );
  for (const service of Object.values(project.services)) {
    if (none.has(service.name)) continue;
    const needs = service.dependsOn.find((d) => d.required && none.has(d.service));
    if (needs) {
      throw new ConfigError(`Service ${service.name} depends on ${needs.service}, which has 0 replicas`, {
        resource: `services.${service.name}.depends_on`,
        hint: `Give ${needs.service} at least one replica, or mark the dependency required: false.`,
      });
    }
    const spec = { ...service, dependsOn: service.dependsOn.filter((d) => !none.has(d.service)) };
    services[service.name] = spec;
    for (let index = 2; index <= (service.replicas ?? 1); index++) {
      const name = `${service.name}-${index}`;
      if (project.services[name]) {
        throw new ConfigError(
          `Replica ${index} of service ${service.name} would be named ${name}, which is another service`,
          {
            resource: name,
            hint: `Rename the service ${name}, or run fewer replicas of ${service.name}.`,
          },
        );
      }
      const { replicas: _count, ...rest } = spec;
      services[name] = { ...rest, name, replica: { of: service.name, index } };
    }
  }
  return { ...project, services };
}

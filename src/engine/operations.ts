// The catalogue of Engine API operations berth performs, each with its class: cheap `read`s,
// `lifecycle` calls that change state and take a limiter slot, and long-lived `stream`s that are
// never sampled as latency. The guard and the proxy share this classification.

export type OperationClass = "read" | "lifecycle" | "stream";

export interface OperationSpec {
  class: OperationClass;
  /** Safe to send again after a connection failure without looking first. */
  idempotent: boolean;
}

export const OPERATIONS = {
  "system.ping": { class: "read", idempotent: true },
  "system.version": { class: "read", idempotent: true },
  "system.info": { class: "read", idempotent: true },
  "system.events": { class: "stream", idempotent: true },
  "container.list": { class: "read", idempotent: true },
  "container.inspect": { class: "read", idempotent: true },
  "container.create": { class: "lifecycle", idempotent: false },
  "container.start": { class: "lifecycle", idempotent: true },
  "container.stop": { class: "lifecycle", idempotent: true },
  "container.kill": { class: "lifecycle", idempotent: false },
  "container.restart": { class: "lifecycle", idempotent: false },
  "container.remove": { class: "lifecycle", idempotent: true },
  "container.update": { class: "lifecycle", idempotent: true },
  "container.wait": { class: "stream", idempotent: true },
  "container.logs": { class: "read", idempotent: true },
  "container.logs-follow": { class: "stream", idempotent: true },
  "container.stats": { class: "read", idempotent: true },
  "container.stats-stream": { class: "stream", idempotent: true },
  "container.exec-create": { class: "lifecycle", idempotent: false },
  "container.exec-start": { class: "stream", idempotent: false },
  "container.exec-inspect": { class: "read", idempotent: true },
  "container.exec-resize": { class: "read", idempotent: true },
  "container.attach": { class: "stream", idempotent: false },
  "container.healthcheck": { class: "lifecycle", idempotent: true },
  "container.put-archive": { class: "lifecycle", idempotent: true },
  "network.list": { class: "read", idempotent: true },
  "network.inspect": { class: "read", idempotent: true },
  "network.create": { class: "lifecycle", idempotent: false },
  "network.remove": { class: "lifecycle", idempotent: true },
  "network.connect": { class: "lifecycle", idempotent: false },
  "network.disconnect": { class: "lifecycle", idempotent: false },
  "volume.list": { class: "read", idempotent: true },
  "volume.inspect": { class: "read", idempotent: true },
  "volume.create": { class: "lifecycle", idempotent: true },
  "volume.remove": { class: "lifecycle", idempotent: true },
  "image.list": { class: "read", idempotent: true },
  "image.inspect": { class: "read", idempotent: true },
  "image.build": { class: "stream", idempotent: false },
  "image.pull": { class: "stream", idempotent: true },
  "image.remove": { class: "lifecycle", idempotent: true },
  "image.import": { class: "stream", idempotent: false },
} as const satisfies Record<string, OperationSpec>;

export type OperationName = keyof typeof OPERATIONS;

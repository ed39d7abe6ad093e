// Networks and volumes.
import { path } from "./core.js";
import { ExecApi } from "./exec-api.js";
import type { Filters, NetworkCreateSpec, NetworkInspect, VolumeCreateSpec, VolumeInspect } from "./types.js";

export class NetworkApi extends ExecApi {
  listNetworks(filters?: Filters): Promise<NetworkInspect[]> {
    return this.call("network.list", () =>
      this.json<NetworkInspect[]>({ method: "GET", path: "/networks", query: { filters } }),
    );
  }

  inspectNetwork(id: string): Promise<NetworkInspect> {
    return this.call(
      "network.inspect",
      () => this.json<NetworkInspect>({ method: "GET", path: `/networks/${path(id)}` }),
      { resource: id },
    );
  }

  createNetwork(spec: NetworkCreateSpec): Promise<{ id: string }> {
    return this.call(
      "network.create",
      async () => ({
        id: (await this.json<{ Id: string }>({ method: "POST", path: "/networks/create", body: spec })).Id,
      }),
      { resource: spec.Name },
    );
  }

  removeNetwork(id: string): Promise<void> {
    return this.call(
      "network.remove",
      async () => void (await this.status({ method: "DELETE", path: `/networks/${path(id)}` })),
      { resource: id },
    );
  }

  connectNetwork(network: string, container: string, aliases: string[] = []): Promise<void> {
    return this.call(
      "network.connect",
      async () =>
        void (await this.status({
          method: "POST",
          path: `/networks/${path(network)}/connect`,
          body: { Container: container, EndpointConfig: { Aliases: aliases } },
        })),
      { resource: `${container}@${network}` },
    );
  }

  disconnectNetwork(network: string, container: string): Promise<void> {
    return this.call(
      "network.disconnect",
      async () =>
        void (await this.status({
          method: "POST",
          path: `/networks/${path(network)}/disconnect`,
          body: { Container: container, Force: false },
        })),
      { resource: `${container}@${network}` },
    );
  }

  // volumes --------------------------------------------------------------------------------

  async listVolumes(filters?: Filters): Promise<VolumeInspect[]> {
    const result = await this.call("volume.list", () =>
      this.json<{ Volumes: VolumeInspect[] | null }>({ method: "GET", path: "/volumes", query: { filters } }),
    );
    return result.Volumes ?? [];
  }

  inspectVolume(name: string): Promise<VolumeInspect> {
    return this.call(
      "volume.inspect",
      () => this.json<VolumeInspect>({ method: "GET", path: `/volumes/${path(name)}` }),
      { resource: name },
    );
  }

  createVolume(spec: VolumeCreateSpec): Promise<{ name: string }> {
    return this.call(
      "volume.create",
      async () => {
        const created = await this.json<{ Name?: string }>({
          method: "POST",
          path: "/volumes/create",
          body: spec,
        });
        return { name: created.Name ?? spec.Name ?? "" };
      },
      { resource: spec.Name },
    );
  }

  removeVolume(name: string): Promise<void> {
    return this.call(
      "volume.remove",
      async () => void (await this.status({ method: "DELETE", path: `/volumes/${path(name)}` })),
      { resource: name },
    );
  }
}

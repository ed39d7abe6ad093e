// Networks and volumes.
import { path } from "./core.js";
import { ExecApi } from "./exec-api.js";
import type { Filters, NetworkCreateSpec, NetworkInspect, VolumeCreateSpec, VolumeInspect } from "./types.js";

export class NetworkApi extends ExecApi {
  listNetworks(filters?: Filters): Promise<NetworkInspect[]> {
    return this.callJson("network.list", { method: "GET", path: "/networks", query: { filters } });
  }

  inspectNetwork(id: string): Promise<NetworkInspect> {
    return this.callGet("network.inspect", `/networks/${path(id)}`, id);
  }

  async createNetwork(spec: NetworkCreateSpec): Promise<{ id: string }> {
    const created = await this.callJson<{ Id: string }>(
      "network.create",
      { method: "POST", path: "/networks/create", body: spec },
      { resource: spec.Name },
    );
    return { id: created.Id };
  }

  removeNetwork(id: string): Promise<void> {
    return this.callDelete("network.remove", `/networks/${path(id)}`, id);
  }

  connectNetwork(network: string, container: string, aliases: string[] = []): Promise<void> {
    const body = { Container: container, EndpointConfig: { Aliases: aliases } };
    return this.callStatus(
      "network.connect",
      { method: "POST", path: `/networks/${path(network)}/connect`, body },
      { resource: `${container}@${network}` },
    );
  }

  disconnectNetwork(network: string, container: string): Promise<void> {
    const body = { Container: container, Force: false };
    return this.callStatus(
      "network.disconnect",
      { method: "POST", path: `/networks/${path(network)}/disconnect`, body },
      { resource: `${container}@${network}` },
    );
  }

  // volumes --------------------------------------------------------------------------------

  async listVolumes(filters?: Filters): Promise<VolumeInspect[]> {
    const result = await this.callJson<{ Volumes: VolumeInspect[] | null }>("volume.list", {
      method: "GET",
      path: "/volumes",
      query: { filters },
    });
    return result.Volumes ?? [];
  }

  inspectVolume(name: string): Promise<VolumeInspect> {
    return this.callGet("volume.inspect", `/volumes/${path(name)}`, name);
  }

  async createVolume(spec: VolumeCreateSpec): Promise<{ name: string }> {
    const created = await this.callJson<{ Name?: string }>(
      "volume.create",
      { method: "POST", path: "/volumes/create", body: spec },
      { resource: spec.Name },
    );
    return { name: created.Name ?? spec.Name ?? "" };
  }

  removeVolume(name: string): Promise<void> {
    return this.callDelete("volume.remove", `/volumes/${path(name)}`, name);
  }
}

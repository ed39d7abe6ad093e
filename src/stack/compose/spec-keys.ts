// Every key of the Compose specification, as a tree: data derived from the specification's JSON
// schema (schema/compose-spec.json of compose-spec/compose-spec, commit 170098ba) by walking its
// properties, patternProperties, items and oneOf branches. `*`: any key (a map of named entries);
// `[]`: each item of a list; `true`: nothing below is a key of the specification; ANY_KEYS: a map of free names.
// It tells a typo (not in the specification: refused with a suggestion) from a key berth cannot
// honour (in the specification: refused unless `x-berth.ignore` names it).
import { ANY_KEYS, type KeyTree, leaves } from "./key-tree.js";

export const SPEC_KEYS: KeyTree = {
  ...leaves("name version"),
  configs: {
    "*": {
      ...leaves("content environment file name template_driver"),
      external: { ...leaves("name") },
      labels: ANY_KEYS,
    },
  },
  include: { "[]": { ...leaves("env_file path project_directory") } },
  models: { "*": { ...leaves("context_size model name runtime_flags") } },
  networks: {
    "*": {
      ...leaves("attachable driver enable_ipv4 enable_ipv6 internal name"),
      driver_opts: ANY_KEYS,
      external: { ...leaves("name") },
      ipam: {
        ...leaves("driver"),
        config: {
          "[]": { ...leaves("gateway ip_range subnet"), aux_addresses: ANY_KEYS },
        },
        options: ANY_KEYS,
      },
      labels: ANY_KEYS,
    },
  },
  secrets: {
    "*": {
      ...leaves("driver environment file name template_driver"),
      driver_opts: ANY_KEYS,
      external: { ...leaves("name") },
      labels: ANY_KEYS,
    },
  },
  services: {
    "*": {
      ...leaves(
        "attach cap_add cap_drop cgroup cgroup_parent command container_name cpu_count cpu_percent",
        "cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset",
        "device_cgroup_rules dns dns_opt dns_search domainname entrypoint expose external_links",
        "group_add hostname image init ipc isolation label_file links mac_address mem_limit",
        "mem_reservation mem_swappiness memswap_limit network_mode oom_kill_disable oom_score_adj",
        "pid pids_limit platform privileged profiles pull_policy pull_refresh_after read_only",
        "restart runtime scale security_opt shm_size stdin_open stop_grace_period stop_signal",
        "storage_opt tmpfs tty use_api_socket user userns_mode uts volumes_from working_dir",
      ),
      annotations: ANY_KEYS,
      blkio_config: {
        ...leaves("weight"),
        device_read_bps: { "[]": { ...leaves("path rate") } },
        device_read_iops: { "[]": { ...leaves("path rate") } },
        device_write_bps: { "[]": { ...leaves("path rate") } },
        device_write_iops: { "[]": { ...leaves("path rate") } },
        weight_device: { "[]": { ...leaves("path weight") } },
      },
      build: {
        ...leaves(
          "cache_from cache_to context dockerfile dockerfile_inline entitlements isolation network",
          "no_cache platforms privileged provenance pull sbom shm_size tags target",
        ),
        additional_contexts: ANY_KEYS,
        args: ANY_KEYS,
        extra_hosts: ANY_KEYS,
        labels: ANY_KEYS,
        secrets: { "[]": { ...leaves("gid mode source target uid") } },
        ssh: ANY_KEYS,
        ulimits: { "*": { ...leaves("hard soft") } },
      },
      configs: { "[]": { ...leaves("gid mode source target uid") } },
      credential_spec: { ...leaves("config file registry") },
      depends_on: { "*": { ...leaves("condition required restart") } },
      deploy: {
        ...leaves("endpoint_mode mode replicas"),
        labels: ANY_KEYS,
        placement: {
          ...leaves("constraints max_replicas_per_node"),
          preferences: { "[]": { ...leaves("spread") } },
        },
        resources: {
          limits: { ...leaves("cpus memory pids") },
          reservations: {
            ...leaves("cpus memory"),
            devices: {
              "[]": {
                ...leaves("capabilities count device_ids driver"),
                options: ANY_KEYS,
              },
            },
            generic_resources: { "[]": { discrete_resource_spec: { ...leaves("kind value") } } },
          },
        },
        restart_policy: { ...leaves("condition delay max_attempts window") },
        rollback_config: {
          ...leaves("delay failure_action max_failure_ratio monitor order parallelism"),
        },
        update_config: {
          ...leaves("delay failure_action max_failure_ratio monitor order parallelism"),
        },
      },
      develop: {
        watch: {
          "[]": {
            ...leaves("action ignore include initial_sync path target"),
            exec: {
              ...leaves("command privileged user working_dir"),
              environment: ANY_KEYS,
            },
          },
        },
      },
      devices: { "[]": { ...leaves("permissions source target") } },
      env_file: { "[]": { ...leaves("format path required") } },
      environment: ANY_KEYS,
      extends: { ...leaves("file service") },
      extra_hosts: ANY_KEYS,
      gpus: {
        "[]": {
          ...leaves("capabilities count device_ids driver"),
          options: ANY_KEYS,
        },
      },
      healthcheck: {
        ...leaves("disable interval retries start_interval start_period test timeout"),
      },
      labels: ANY_KEYS,
      logging: { ...leaves("driver"), options: ANY_KEYS },
      models: { "*": { ...leaves("endpoint_var model_var") } },
      networks: {
        "*": {
          ...leaves(
            "aliases gw_priority interface_name ipv4_address ipv6_address link_local_ips",
            "mac_address priority",
          ),
          driver_opts: ANY_KEYS,
        },
      },
      ports: {
        "[]": { ...leaves("app_protocol host_ip mode name protocol published target") },
      },
      post_start: {
        "[]": {
          ...leaves("command privileged user working_dir"),
          environment: ANY_KEYS,
        },
      },
      pre_stop: {
        "[]": {
          ...leaves("command privileged user working_dir"),
          environment: ANY_KEYS,
        },
      },
      provider: { ...leaves("type"), options: ANY_KEYS },
      secrets: { "[]": { ...leaves("gid mode source target uid") } },
      sysctls: ANY_KEYS,
      ulimits: { "*": { ...leaves("hard soft") } },
      volumes: {
        "[]": {
          ...leaves("consistency read_only source target type"),
          bind: { ...leaves("create_host_path propagation recursive selinux") },
          image: { ...leaves("subpath") },
          tmpfs: { ...leaves("mode size") },
          volume: { ...leaves("nocopy subpath"), labels: ANY_KEYS },
        },
      },
    },
  },
  volumes: {
    "*": {
      ...leaves("driver name"),
      driver_opts: ANY_KEYS,
      external: { ...leaves("name") },
      labels: ANY_KEYS,
    },
  },
};

#!/usr/bin/env bash
# Makes sure the tools berth's real-daemon tests drive besides Docker are installed: Debian's
# `docker-compose` v1 (the proxy's Compose client test, the stack benchmark's baseline),
# `debootstrap` (the reference stack's images are built from Debian packages) and a headless
# `chromium` (the HTML report test), and Podman with the CNI dnsname plugin (CI's Podman run of
# `berth validate --quick`, the engine tests; dnsname gives Podman's networks DNS). Idempotent: nothing to do when all are there. Installs them
# as root with apt (under the same lock as ensure-chromium.sh); otherwise says what is missing.
set -euo pipefail

say() { printf 'ensure-test-tools: %s\n' "$*" >&2; }

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v podman >/dev/null 2>&1 || missing+=(podman)
[ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "missing: ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) to run the full suite."
  exit 1
fi

say "installing: ${missing[*]}"
(
  flock 9
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
) 9>"${BERTH_APT_LOCK:-/tmp/berth-apt.lock}"
say "installed: ${missing[*]}"

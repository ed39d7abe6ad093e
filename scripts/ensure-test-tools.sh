#!/usr/bin/env bash
# Makes sure the tools berth's real-daemon tests drive besides Docker are installed: Debian's
# `docker-compose` v1 (the proxy's Compose client test, the stack benchmark's baseline),
# `debootstrap` (the reference stack's images are built from Debian packages), a headless
# `chromium` (the HTML report test), and for the TLS and ssh endpoint fixtures `openssl`,
# `socat` (the mutual-TLS relay) and OpenSSH's server and client (a private sshd on 127.0.0.1),
# and `docker-registry` with `htpasswd` from `apache2-utils` (the pull tests' real registry,
# started and stopped by the tests themselves; `ip` from iproute2 and `nsenter` let a private
# daemon's network namespace reach it), and Podman with the CNI dnsname plugin (CI's
# Podman run of `berth validate --quick`, the engine tests; dnsname gives Podman's networks
# DNS), and util-linux's `script` (a real pseudo-terminal for `berth exec`'s tests). Idempotent: nothing to do when all are there.
# Installs them as root with apt (under the same lock as ensure-chromium.sh); otherwise says what is missing.
set -euo pipefail

say() { printf 'ensure-test-tools: %s\n' "$*" >&2; }

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
{ command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; } || missing+=(openssh-client)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v podman >/dev/null 2>&1 || missing+=(podman)
[ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "missing: ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) to run the full suite."
  exit 1
fi

say "installing: ${missing[*]}"
(
  flock 9
  export DEBIAN_FRONTEND=noninteractive
  # Install only: no service starts (openssh-server would start a system sshd on port 22; the
  # tests run their own on 127.0.0.1).
  export RUNLEVEL=1
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
) 9>"${BERTH_APT_LOCK:-/tmp/berth-apt.lock}"
say "installed: ${missing[*]}"

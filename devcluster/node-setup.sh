#!/usr/bin/env bash
# Installs what the development cluster's real node and the image build need, from Debian
# packages: containerd and runc (the container runtime the kubelet drives), the CNI plugins (pod
# networking on a bridge), nftables (the harness's loopback forwarding rules for pods), buildah
# (builds docker/*.Dockerfile without a daemon), debootstrap (a base image from the Debian mirror
# when no registry is reachable) and gcc (the static pause binary). Needs root; a no-op when all
# are present. Called by scripts/test.sh and scripts/demo.sh.
set -euo pipefail

packages=(containerd runc containernetworking-plugins nftables buildah debootstrap gcc libc6-dev)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
if [[ $(id -u) != 0 ]]; then
    echo "node-setup: installing ${missing[*]} needs root" >&2
    exit 1
fi
echo "node-setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# containerd's own service is not started: the harness runs its own containerd per cluster.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

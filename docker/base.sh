#!/usr/bin/env bash
# A Python base image made without any registry: debootstrap (minbase) of Debian bookworm from
# the Debian mirror apt already uses, with python3 (3.11), python3-venv (the build stage's pip)
# and ca-certificates, committed with buildah. Used by scripts/images.sh when no BASE_IMAGE is
# given. Cached as an OCI archive under $SCHEDULEDRUN_IMAGE_CACHE, keyed on everything below,
# and loaded into buildah's store from there. Prints the image name as its last line.
set -euo pipefail

suite=bookworm
packages=python3,python3-venv,ca-certificates
mirror="${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)}"
mirror="${mirror:-http://deb.debian.org/debian}"
recipe="base-1"
key="$(printf '%s\n' "$recipe" "$suite" "$packages" "$mirror" | sha256sum | cut -c1-12)"
cache="${SCHEDULEDRUN_IMAGE_CACHE:-$HOME/.cache/kagent-scheduledrun/images}"
archive="$cache/base-$key.oci.tar"
image="localhost/kagent-scheduledrun-base:$suite-$key"

if buildah inspect --type image "$image" >/dev/null 2>&1; then
    echo "$image"
    exit 0
fi
mkdir -p "$cache"
if [[ -f "$archive" ]]; then
    buildah tag "$(buildah pull --quiet "oci-archive:$archive")" "$image"
    echo "$image"
    exit 0
fi

rootfs="$(mktemp -d /var/tmp/scheduledrun-rootfs-XXXXXX)"
container=""
cleanup() {
    [[ -n "$container" ]] && buildah rm "$container" >/dev/null 2>&1 || true
    rm -rf "$rootfs"
}
trap cleanup EXIT
echo "debootstrap $suite from $mirror ($packages)" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >&2
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

container="$(buildah from scratch)"
mount="$(buildah mount "$container")"
cp -a "$rootfs"/. "$mount"/
buildah umount "$container" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd python3 \
    --label "org.opencontainers.image.description=Debian $suite minbase + $packages" \
    "$container"
buildah commit --quiet "$container" "$image" >/dev/null
buildah push --quiet "$image" "oci-archive:$archive.part"
mv "$archive.part" "$archive"
echo "$image"

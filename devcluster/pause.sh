#!/usr/bin/env bash
# The pod sandbox ("pause") image of the development cluster's node, built here instead of pulled:
# build/pause/linux/pause.c from the same k8s.io/kubernetes module the control plane is built
# from, compiled with `gcc -static` into an image holding that one file. Cached as a
# docker-archive keyed on the source; prints "<archive> <image name>" as its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

module_dir="$(cd "$here/go/kube" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
version="$(cd "$here/go/kube" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' k8s.io/kubernetes)"
source="$module_dir/build/pause/linux/pause.c"
key="$(cat "$source" | sha256sum | cut -c1-12)"
cache="${SCHEDULEDRUN_IMAGE_CACHE:-$HOME/.cache/kagent-scheduledrun/images}"
archive="$cache/pause-$key.tar"
image="localhost/kagent-scheduledrun-pause:$version"
if [[ -f "$archive" ]]; then
    echo "$archive $image"
    exit 0
fi
mkdir -p "$cache"
work="$(mktemp -d)"
container=""
cleanup() {
    [[ -n "$container" ]] && buildah rm "$container" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
gcc -Os -static -Wall -Werror -DVERSION="$version-scheduledrun" -o "$work/pause" "$source"
strip "$work/pause"
container="$(buildah from scratch)"
buildah copy --quiet "$container" "$work/pause" /pause >/dev/null
buildah config --entrypoint '["/pause"]' --user 65535:65535 "$container"
buildah commit --quiet "$container" "$image" >/dev/null
buildah push --quiet "$image" "docker-archive:$archive.part:$image"
mv "$archive.part" "$archive"
echo "$archive $image"

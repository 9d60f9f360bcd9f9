#!/usr/bin/env bash
# Builds the two images from docker/*.Dockerfile: the operator and the runner.
#
#   bash scripts/images.sh            # or: make images
#
# With buildah (used when present; docker otherwise, where a docker daemon answers). Inputs, all
# optional, as environment variables:
#   BASE_IMAGE   the Python base of both images. Default with buildah: a Debian bookworm image
#                made by debootstrap from the Debian mirror (docker/base.sh), so no registry is
#                needed; default with docker: the Dockerfiles' python:3.11-slim-bookworm.
#   CA_BUNDLE    a PEM bundle the build trusts for its downloads (PyPI), e.g. behind a
#                TLS-intercepting proxy; default: $SSL_CERT_FILE when that is set. Build stage only.
#   VERSION      the image tag and version label; default: the chart's appVersion.
#   OPERATOR_IMAGE, RUNNER_IMAGE   image names (default: localhost/kagent-scheduledrun-operator
#                and localhost/kagent-scheduledrun; `localhost/` says: built here, published nowhere).
#   SCHEDULEDRUN_IMAGE_CACHE   where the archives are cached (default ~/.cache/kagent-scheduledrun/images).
# Each image is also saved as a docker-archive in the cache, keyed on its inputs (Dockerfile,
# sources, lock file, base, version), so an unchanged tree rebuilds nothing. The last line printed
# is the folder holding operator.tar and runner.tar (what the development cluster imports).
set -euo pipefail
cd "$(dirname "$0")/.."

chart_version="$(awk -F'"' '/^appVersion:/ {print $2}' charts/kagent-scheduledrun/Chart.yaml)"
version="${VERSION:-$chart_version}"
operator_image="${OPERATOR_IMAGE:-localhost/kagent-scheduledrun-operator}:$version"
runner_image="${RUNNER_IMAGE:-localhost/kagent-scheduledrun}:$version"
cache="${SCHEDULEDRUN_IMAGE_CACHE:-$HOME/.cache/kagent-scheduledrun/images}"
export SCHEDULEDRUN_IMAGE_CACHE="$cache"
ca_bundle="${CA_BUNDLE:-${SSL_CERT_FILE:-}}"

if command -v buildah >/dev/null 2>&1; then
    tool=buildah
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    tool=docker
else
    echo "images.sh: needs buildah (bash devcluster/node-setup.sh installs it) or a running docker" >&2
    exit 1
fi

base="${BASE_IMAGE:-}"
pull=()
if [[ -z "$base" && $tool == buildah ]]; then
    base="$(bash docker/base.sh | tail -1)"
    pull=(--pull=never) # made here, in buildah's store: never looked up in a registry
fi

# Everything an image is built from; a change in any of these is a new key.
inputs_key() { # inputs_key <dockerfile>
    {
        echo "images-1 $tool $base $version ${ca_bundle:+with-ca}"
        find "$1" .dockerignore pyproject.toml uv.lock README.md runner generator server templates \
            charts/kagent-scheduledrun/crds -type f -not -path '*/__pycache__/*' -print0 |
            sort -z | xargs -0 sha256sum
    } | sha256sum | cut -c1-16
}
operator_key="$(inputs_key docker/operator.Dockerfile)"
runner_key="$(inputs_key docker/runner.Dockerfile)"
out="$cache/$operator_key-$runner_key"
if [[ -f "$out/.complete" ]]; then
    echo "images: cached ($out)" >&2
    echo "$out"
    exit 0
fi
mkdir -p "$out"

secret_file="$(mktemp)"
trap 'rm -f "$secret_file"' EXIT
if [[ -n "$ca_bundle" ]]; then cp "$ca_bundle" "$secret_file"; fi

build() { # build <dockerfile> <image> <archive>
    local dockerfile="$1" image="$2" archive="$3" start
    start=$(date +%s)
    local args=(-f "$dockerfile" -t "$image" --build-arg "VERSION=$version"
        --secret "id=ca-bundle,src=$secret_file")
    if [[ -n "$base" ]]; then args+=(--build-arg "BASE_IMAGE=$base"); fi
    if [[ $tool == buildah ]]; then
        # runc: crun fails on hosts with hybrid cgroups. The host's network for the RUN steps'
        # downloads: no CNI bridge, no iptables rules, no ip_forward change on the build host.
        buildah bud --quiet --layers --network=host --runtime "$(command -v runc)" \
            "${pull[@]}" "${args[@]}" . >&2
        rm -f "$archive"
        buildah push --quiet "$image" "docker-archive:$archive:$image" >&2
    else
        DOCKER_BUILDKIT=1 docker build --quiet "${args[@]}" . >&2
        docker save -o "$archive" "$image"
    fi
    echo "images: built $image in $(( $(date +%s) - start ))s" >&2
}
build docker/runner.Dockerfile "$runner_image" "$out/runner.tar"
build docker/operator.Dockerfile "$operator_image" "$out/operator.tar"
printf 'operator=%s\nrunner=%s\nbase=%s\n' "$operator_image" "$runner_image" \
    "${base:-python:3.11-slim-bookworm}" >"$out/images.env"
touch "$out/.complete"
echo "$out"

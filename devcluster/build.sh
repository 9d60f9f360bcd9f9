#!/usr/bin/env bash
# Builds the real control-plane binaries the cluster tests run (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kubectl, helm) and helm-docs (the chart README's
# values table) from the Go modules pinned under go/, into a cache
# folder outside git keyed by the hash of those go.mod/go.sum files. Reuses a complete folder.
# Prints the folder holding the binaries as its last line of output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${SCHEDULEDRUN_BIN_CACHE:-$HOME/.cache/kagent-scheduledrun}/bin"
# Bump when the build recipe below changes in a way the go.mod/go.sum files do not show.
recipe="recipe-4"
key="$(cd "$here/go" && { echo "$recipe"; cat kube/go.mod kube/go.sum etcd/go.mod etcd/go.sum helm/go.mod helm/go.sum \
    helmdocs/go.mod helmdocs/go.sum; } | sha256sum | cut -c1-16)"
out="$cache_root/$key"

if [[ -f "$out/.complete" ]]; then
    echo "$out"
    exit 0
fi

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
kube_version="$(cd "$here/go/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
kube_minor="$(echo "$kube_version" | cut -d. -f2)"
version_flags="-X k8s.io/component-base/version.gitVersion=$kube_version \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$kube_minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$kube_version \
 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$kube_minor"

mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/.building-$key-XXXXXX")"
trap 'rm -rf "$work"' EXIT

build() { # build <module dir> <ldflags> <package>...
    local dir="$1" flags="$2"
    shift 2
    echo "building $* ($(date -u +%H:%M:%S))" >&2
    (cd "$here/go/$dir" && go build -trimpath -ldflags "-s -w $flags" -o "$work/" "$@") >&2
}

start=$(date +%s)
# The etcd server's main package is go.etcd.io/etcd/server/v3; go names that binary "server".
build etcd "" go.etcd.io/etcd/server/v3
mv "$work/server" "$work/etcd"
build kube "$version_flags" k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet
helm_version="$(cd "$here/go/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v3)"
client_minor="$(cd "$here/go/helm" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)"
# Helm's own Makefile sets these; without them `helm version` says v3.19 and offline
# `helm template`/`lint` assume Kubernetes 1.20 (failing the chart's kubeVersion).
helm_flags="-X helm.sh/helm/v3/internal/version.version=$helm_version \
 -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$client_minor \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$client_minor"
build helm "$helm_flags" helm.sh/helm/v3/cmd/helm
build helmdocs "" github.com/norwoodj/helm-docs/cmd/helm-docs
echo "built in $(( $(date +%s) - start ))s" >&2

chmod 755 "$work"
touch "$work/.complete"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
echo "$out"

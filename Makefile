# Developer entry points. CI runs .ci/run; these are for people.
.PHONY: binaries cluster

# Build (or find cached) etcd, kube-apiserver, kube-controller-manager, kubectl and helm.
binaries:
	bash devcluster/build.sh

# Run the loopback control plane with the kubelet stand-in until Ctrl-C; prints export KUBECONFIG=...
cluster: binaries
	uv run --frozen python -m devcluster --kubelet $(if $(STATE_DIR),--state-dir $(STATE_DIR),)

# Developer entry points. CI runs .ci/run; these are for people.
.PHONY: binaries images node-setup cluster

# Build (or find cached) etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kubectl and helm.
binaries:
	bash devcluster/build.sh

# Install the Debian packages the images and the real node need (containerd, runc, buildah, ...).
node-setup:
	bash devcluster/node-setup.sh

# Build the operator and runner images (buildah, or docker); see the README's "Images" section.
images: node-setup
	bash scripts/images.sh

# Run the loopback control plane with a real node until Ctrl-C; prints export KUBECONFIG=...
cluster: binaries images
	uv run --frozen python -m devcluster $(if $(STATE_DIR),--state-dir $(STATE_DIR),)

//go:build tools

// Package tools records the helm command build.sh compiles, so go.mod/go.sum pin it.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)

//go:build tools

// Package tools records the helm-docs command build.sh compiles, so go.mod/go.sum pin it.
package tools

import (
	_ "github.com/norwoodj/helm-docs/cmd/helm-docs"
)

//go:build tools

// Package tools records the etcd command build.sh compiles, so go.mod/go.sum pin it.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)

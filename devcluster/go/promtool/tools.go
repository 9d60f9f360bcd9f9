//go:build tools

// Package tools pins promtool for `go build` (see ../../build_promtool.sh).
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"

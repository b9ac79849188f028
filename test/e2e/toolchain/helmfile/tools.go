//go:build tools

// Package tools pins helmfile for the end-to-end tests; build.sh builds it.
package tools

import (
	_ "github.com/helmfile/helmfile"
	// The version variables set by build.sh with -ldflags -X.
	_ "go.szostok.io/version"
)

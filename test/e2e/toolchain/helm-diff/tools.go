//go:build tools

// Package tools pins the helm-diff plugin for the end-to-end tests; build.sh builds it.
package tools

import (
	_ "github.com/databus23/helm-diff/v3"
	// The version variable set by build.sh with -ldflags -X.
	_ "github.com/databus23/helm-diff/v3/cmd"
)

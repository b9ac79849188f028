//go:build tools

// Package tools pins etcd for the end-to-end tests; build.sh builds it.
package tools

import (
	// The etcd binary's main package is the root of the server module.
	_ "go.etcd.io/etcd/server/v3"
	// Version constants (and the GitSHA variable set by build.sh).
	_ "go.etcd.io/etcd/api/v3/version"
)

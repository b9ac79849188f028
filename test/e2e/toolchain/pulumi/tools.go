//go:build tools

// Package tools pins the Pulumi CLI for the end-to-end tests; build.sh builds it.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	// The version variable set by build.sh with -ldflags -X.
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)

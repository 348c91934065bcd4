#!/usr/bin/env bash
# Builds the control plane that envtest runs (kube-apiserver, etcd) and a matching kubectl
# from the Go module proxy, because setup-envtest cannot download its binaries here.
# Pinned and cached: a warm run only checks the cache. Prints the asset directory on stdout,
# so callers can do: KUBEBUILDER_ASSETS=$(hack/install-envtest-assets.sh)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
CACHE_DIR=${TOKEN_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/token-operator}
ASSETS=$CACHE_DIR/envtest/k8s-$K8S_VERSION-etcd-$ETCD_VERSION

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/script.sh"
. "$here/lib/build-kubernetes.sh"

complete() {
  [ -x "$ASSETS/kube-apiserver" ] && [ -x "$ASSETS/etcd" ] && [ -x "$ASSETS/kubectl" ]
}

use_cache_or_lock envtest

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local

build_etcd() {
  local mod=$work/etcd
  mkdir -p "$mod"
  printf 'module envtestassets/etcd\ngo %s\nrequire go.etcd.io/etcd/server/v3 v%s\n' \
    "$(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//')" "$ETCD_VERSION" > "$mod/go.mod"
  step="building etcd v$ETCD_VERSION"
  log "$step"
  (cd "$mod" && retry go build -trimpath -ldflags "-s -w" -o "$work/out/etcd" go.etcd.io/etcd/server/v3)
}

step="preparing a build directory"
mkdir -p "$work/out"
build_kubernetes "$work" "$work/out" kube-apiserver kubectl
build_etcd
step="checking the built binaries"
"$work/out/kube-apiserver" --version >&2
# Not piped into head: with pipefail, etcd killed by SIGPIPE when head exits
# first (exit 141) failed a cold run once in a while.
etcd_version=$("$work/out/etcd" --version)
echo "${etcd_version%%$'\n'*}" >&2

install_assets "$work/out"

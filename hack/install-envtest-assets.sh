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

log() { echo "install-envtest-assets: $*" >&2; }

# Every failure names the step it happened in.
step="checking the cache"
set -E
trap 'rc=$?; log "FAILED while $step (exit $rc)"; exit $rc' ERR
here=$(cd "$(dirname "$0")" && pwd)
retry() { "$here/retry.sh" "$@"; }

complete() {
  [ -x "$ASSETS/kube-apiserver" ] && [ -x "$ASSETS/etcd" ] && [ -x "$ASSETS/kubectl" ]
}

if complete; then
  echo "$ASSETS"
  exit 0
fi

mkdir -p "$CACHE_DIR"
# Two callers (make test in two shells) must not build into the same place at once.
exec 9>"$CACHE_DIR/envtest.lock"
flock 9
if complete; then
  echo "$ASSETS"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local

# k8s.io/kubernetes points its staging modules at ./staging/src with replace directives,
# which only work inside its own repository. A throw-away module replaces each with the
# published k8s.io/<module> v0.<minor>.<patch> instead.
build_kubernetes() {
  local mod=$work/kubernetes gomod
  mkdir -p "$mod"
  step="downloading k8s.io/kubernetes@v$K8S_VERSION"
  gomod=$(retry go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -n "$gomod" ] || { log "could not download k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
  {
    echo "module envtestassets/kubernetes"
    echo "go $(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//')"
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*#\1#p' "$gomod" |
      while read -r m; do echo "replace $m => $m v0.${K8S_VERSION#*.}"; done
  } > "$mod/go.mod"
  local pkgs=(k8s.io/component-base/version k8s.io/client-go/pkg/version)
  local ldflags="-s -w" p
  for p in "${pkgs[@]}"; do
    ldflags+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=${K8S_VERSION%%.*}"
    ldflags+=" -X $p.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $p.gitTreeState=clean"
  done
  for cmd in kube-apiserver kubectl; do
    step="building $cmd v$K8S_VERSION"
    log "$step (a cold build takes a few minutes)"
    (cd "$mod" && retry go build -trimpath -ldflags "$ldflags" -o "$work/out/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  done
}

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
build_kubernetes
build_etcd
step="checking the built binaries"
"$work/out/kube-apiserver" --version >&2
# Not piped into head: with pipefail, etcd killed by SIGPIPE when head exits
# first (exit 141) failed a cold run once in a while.
etcd_version=$("$work/out/etcd" --version)
echo "${etcd_version%%$'\n'*}" >&2

# Move into place in one step so an interrupted build never looks complete.
step="moving the binaries into $ASSETS"
mkdir -p "$(dirname "$ASSETS")"
rm -rf "$ASSETS.tmp"
mv "$work/out" "$ASSETS.tmp"
rm -rf "$ASSETS"
mv "$ASSETS.tmp" "$ASSETS"
echo "$ASSETS"

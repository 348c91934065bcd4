#!/usr/bin/env bash
# Builds the node and control-plane commands the end-to-end cluster runs beside envtest's
# kube-apiserver and etcd (kubelet, kube-controller-manager, kube-scheduler) from the Go
# module proxy, and installs containerd, runc and the CNI plugins from Debian when they
# are missing. Pinned and cached: a warm run only checks. Prints the directory of the
# built commands on stdout.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
CACHE_DIR=${TOKEN_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/token-operator}
ASSETS=$CACHE_DIR/e2e/k8s-$K8S_VERSION
COMMANDS=(kubelet kube-controller-manager kube-scheduler)
DEBIAN_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack iproute2 openssl)

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/script.sh"
. "$here/lib/build-kubernetes.sh"

missing_packages() {
  local p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

step="installing Debian packages"
mapfile -t missing < <(missing_packages)
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian"
  retry apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive retry apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

complete() {
  local c
  for c in "${COMMANDS[@]}"; do [ -x "$ASSETS/$c" ] || return 1; done
}
use_cache_or_lock e2e

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_kubernetes "$work" "$work/out" "${COMMANDS[@]}"
step="checking the built binaries"
"$work/out/kubelet" --version >&2

install_assets "$work/out"

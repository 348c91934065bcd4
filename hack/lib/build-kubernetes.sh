# Sourced by the asset installers: builds commands of k8s.io/kubernetes from the Go module
# proxy. k8s.io/kubernetes points its staging modules at ./staging/src with replace
# directives, which only work inside its own repository, so a throw-away module replaces
# each with the published k8s.io/<module> v0.<minor>.<patch> instead.
#
# build_kubernetes WORKDIR OUTDIR CMD... ; needs K8S_VERSION, log, retry and step.
build_kubernetes() {
  local work=$1 out=$2 mod gomod
  shift 2
  mod=$work/kubernetes
  mkdir -p "$mod" "$out"
  step="downloading k8s.io/kubernetes@v$K8S_VERSION"
  gomod=$(retry go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -n "$gomod" ] || { log "could not download k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
  {
    echo "module kubernetesassets"
    echo "go $(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//')"
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*#\1#p' "$gomod" |
      while read -r m; do echo "replace $m => $m v0.${K8S_VERSION#*.}"; done
  } > "$mod/go.mod"
  # Without the version in the ldflags the commands report v0.0.0-master, which a kubelet
  # registers as its node's version.
  local pkgs=(k8s.io/component-base/version k8s.io/client-go/pkg/version)
  local ldflags="-s -w" p cmd
  for p in "${pkgs[@]}"; do
    ldflags+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=${K8S_VERSION%%.*}"
    ldflags+=" -X $p.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $p.gitTreeState=clean"
  done
  for cmd in "$@"; do
    step="building $cmd v$K8S_VERSION"
    log "$step (a cold build takes a few minutes)"
    (cd "$mod" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local \
      retry go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  done
}

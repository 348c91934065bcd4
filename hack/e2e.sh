#!/usr/bin/env bash
# make e2e: runs the end-to-end tests (test/e2e) on a real single-node cluster. It
# builds what the cluster needs (hack/install-envtest-assets.sh, hack/install-e2e-assets.sh),
# the test images, and the test binary; creates a network namespace for the whole
# cluster; runs the tests inside it; then stops every process it started, by PID, and
# restores the host: sysctls, cgroups, network namespaces, files. It checks the host
# is as it found it and fails if not. Needs root (Debian's packages, namespaces,
# cgroups). A run after an interrupted one first finishes that one's clean-up.
#
# Environment: HELM, IMAGE_ARCHIVE and IMG (from the Makefile), E2E_RUN (a -test.run
# pattern), E2E_HELM_ARGS (more arguments for `helm install`). The cluster's, pods'
# and consumers' logs are copied to bin/e2e-logs.
set -euo pipefail

NS=token-operator-e2e
NODE_IP=10.213.0.1
POD_CIDR=10.214.0.0/24
SERVICE_CIDR=10.215.0.0/24
STATE=/var/tmp/token-operator-e2e
HOST_BEFORE=/var/tmp/token-operator-e2e.host-before
START_MARK=/var/tmp/token-operator-e2e.started
OPERATOR_IMAGE=${IMG:-token-operator:dev}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LOGS_OUT=$root/bin/e2e-logs
log() { echo "e2e: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: it creates a network namespace and cgroups, and installs Debian packages"
: "${HELM:?set HELM to the helm binary (make e2e does)}"
: "${IMAGE_ARCHIVE:?set IMAGE_ARCHIVE to the operator image archive (make e2e does)}"

# --- the host's state, to restore and compare ---------------------------------

SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.forwarding)
# Places the cluster's parts write outside $STATE on their own (shim sockets, CNI
# caches, containerd's opt directory, `ip netns`'s mount); each is removed if it was
# not there before.
HOST_PATHS=(/run/containerd /var/lib/cni /var/log/pods /var/log/containers /var/lib/kubelet /etc/cni /opt/cni
  /opt/containerd /run/netns)

host_state() {
  local s p
  for s in "${SYSCTLS[@]}"; do echo "sysctl $s=$(sysctl -n "$s" 2>/dev/null || echo absent)"; done
  for p in "${HOST_PATHS[@]}"; do [ -e "$p" ] && echo "path $p"; done
  ls /run/netns 2>/dev/null | sed 's/^/netns /' || true
  ip -o link show | awk -F': ' '{print "link " $2}' | sed 's/@.*//'
  ls -d /sys/fs/cgroup/*/kubepods* 2>/dev/null | sed 's/^/cgroup /' || true
  awk '{print "mount " $5}' /proc/self/mountinfo | sort -u
  iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' | sed 's/^/iptables /' || true
}

# --- tear down: processes by PID, then what they left -------------------------

pids_in_cgroups() {
  local f
  for f in $(find /sys/fs/cgroup/*/kubepods* -name cgroup.procs 2>/dev/null); do cat "$f"; done | sort -u
}

# same_process PID START: PID is still the process that started at START (clock
# ticks after boot, /proc/PID/stat's 22nd field), not another that reuses its number.
same_process() {
  [ -r "/proc/$1/stat" ] && [ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f20)" = "$2" ]
}

stop_pid() { # NAME PID: SIGTERM, then SIGKILL after 15 s
  local name=$1 pid=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "$name ($pid) did not stop in 15 s: killing it"
  kill -KILL "$pid" 2>/dev/null
  return 0
}

# teardown runs without errexit: every step is tried, whatever failed before it.
teardown() {
  local name pid start i line s v n p
  [ -d "$STATE" ] || [ -e "/run/netns/$NS" ] || return 0
  log "stopping the cluster"
  if [ -f "$STATE/pids" ]; then
    # Reverse order: the kubelet before containerd, the API server before etcd.
    tac "$STATE/pids" | while read -r name pid start; do
      same_process "$pid" "$start" && stop_pid "$name" "$pid"
    done
  fi
  # The containers' processes (in the kubelet's cgroups) and containerd's shims
  # (in the namespace) were started by the processes above, not by this script.
  for ((i = 0; i < 50; i++)); do
    mapfile -t pids < <(pids_in_cgroups; ip netns pids "$NS" 2>/dev/null)
    ((${#pids[@]})) || break
    kill -KILL "${pids[@]}" 2>/dev/null
    sleep 0.2
  done
  # Deepest first: a cgroup is removed once its children are.
  find /sys/fs/cgroup/*/kubepods* -depth -type d -exec rmdir {} + 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  if [ -f "$HOST_BEFORE" ]; then
    while read -r line; do
      case $line in
      "sysctl "*)
        s=${line#sysctl }; v=${s#*=}; s=${s%%=*}
        [ "$v" = absent ] || sysctl -qw "$s=$v" || log "could not restore $s=$v"
        ;;
      esac
    done < "$HOST_BEFORE"
    # The pods' network namespaces (containerd's cni-*), then the paths.
    for n in $(ls /run/netns 2>/dev/null); do
      grep -qx "netns $n" "$HOST_BEFORE" || { umount "/run/netns/$n" 2>/dev/null; rm -f "/run/netns/$n"; }
    done
    for p in "${HOST_PATHS[@]}"; do
      grep -qx "path $p" "$HOST_BEFORE" && continue
      while mountpoint -q "$p" 2>/dev/null; do umount "$p" || break; done
      rm -rf "$p" || log "could not remove $p"
    done
  fi
  rm -rf "$LOGS_OUT"
  mkdir -p "$LOGS_OUT"
  [ -d "$STATE/logs" ] && cp -r "$STATE/logs/." "$LOGS_OUT/"
  [ -d "$STATE/pod-logs" ] && cp -r "$STATE/pod-logs" "$LOGS_OUT/pods"
  # Nothing may stay mounted under the state directory before it is removed.
  awk '{print $5}' /proc/self/mountinfo | grep "^$STATE" | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$STATE" || log "could not remove $STATE"
  return 0
}

finish() {
  local rc=$? diff
  # The clean-up runs to its end: a second Ctrl-C or SIGTERM does not cut it short.
  trap '' INT TERM
  trap - EXIT
  set +e
  if [ -n "${tests:-}" ] && kill -0 "$tests" 2>/dev/null; then
    stop_pid e2e.test "$tests"
  fi
  teardown
  if [ -f "$HOST_BEFORE" ]; then
    if diff=$(diff <(sort "$HOST_BEFORE") <(host_state | sort)); then
      log "the host is as it was before the run"
      rm -f "$HOST_BEFORE"
    else
      log "FAILED: the host differs from before the run (< before, > after):"
      echo "$diff" >&2
      # Kept with the logs, not where the next run would take it for its own.
      mv "$HOST_BEFORE" "$LOGS_OUT/host-before"
      rc=1
    fi
  fi
  # What else changed outside the state directory cannot be told from other
  # programs' work for sure: it is shown, not failed on.
  find /etc /opt /usr/local /var/lib /var/log /run -xdev -newer "$START_MARK" -not -type d 2>/dev/null |
    sed 's/^/e2e: note: changed during the run: /' >&2
  rm -f "$START_MARK"
  [ "$rc" = 0 ] || log "FAILED (exit $rc); the logs are in $LOGS_OUT"
  exit "$rc"
}

# An interrupted run's processes and files go first; its record of the host
# before it is the one to restore and compare with.
if [ -d "$STATE" ] || [ -e "/run/netns/$NS" ]; then
  log "cleaning up after an interrupted run"
  (set +e; teardown)
fi
if ls -d /sys/fs/cgroup/*/kubepods* >/dev/null 2>&1; then
  die "a kubelet already runs pods on this host (/sys/fs/cgroup/*/kubepods exist): the end-to-end cluster needs a host without one"
fi
trap finish EXIT
trap 'exit 130' INT TERM

# --- what the cluster runs ------------------------------------------------------

CONTROL_PLANE=$("$here/install-envtest-assets.sh")
NODE=$("$here/install-e2e-assets.sh")

log "building the test images and the test binary"
images=$root/bin/e2e
mkdir -p "$images"
for prog in pause awxserver consumer; do
  CGO_ENABLED=0 go build -trimpath -o "$images/$prog" "./test/e2e/images/$prog"
  (cd "$here/image" && go run . -o "$images/$prog.tar" -ref "e2e.local/$prog:1" -name "$prog" -title "token-operator e2e $prog" \
    "$(go env GOOS)/$(go env GOARCH)=$images/$prog")
done
go test -c -o "$images/e2e.test" ./test/e2e

# --- the namespace, and the run -------------------------------------------------

[ -f "$HOST_BEFORE" ] || host_state > "$HOST_BEFORE"
touch "$START_MARK"
mkdir -p "$STATE"
ip netns add "$NS"
ip -n "$NS" link set lo up
# The node's address, which pods reach through their bridge's gateway (these
# kernels have no dummy interfaces).
ip -n "$NS" addr add "$NODE_IP/32" dev lo

# In a mount namespace of its own (its mounts go with it), with the network
# namespace's sysfs and the host's cgroups, which the kubelet and runc need and
# `ip netns exec` would hide.
log "running the tests in network namespace $NS"
E2E_DIR=$STATE E2E_NODE_IP=$NODE_IP E2E_POD_CIDR=$POD_CIDR E2E_SERVICE_CIDR=$SERVICE_CIDR \
  E2E_CONTROL_PLANE=$CONTROL_PLANE E2E_NODE=$NODE E2E_OPERATOR_IMAGE=$OPERATOR_IMAGE \
  E2E_IMAGES="$IMAGE_ARCHIVE $images/pause.tar $images/awxserver.tar $images/consumer.tar" \
  E2E_CHART=$root/charts/token-operator \
  unshare --mount --propagation slave -- nsenter --net="/run/netns/$NS" -- \
  bash -ec 'mkdir -p "$E2E_DIR/host-cgroup"
    mount --rbind /sys/fs/cgroup "$E2E_DIR/host-cgroup"
    mount -t sysfs sysfs /sys
    mount --rbind "$E2E_DIR/host-cgroup" /sys/fs/cgroup
    exec "$@"' e2e "$images/e2e.test" -test.v -test.timeout 75m ${E2E_RUN:+-test.run "$E2E_RUN"} &
# Waited for in the background, so that a signal stops it and cleans up at once.
tests=$!
wait "$tests"

#!/usr/bin/env bash
# Runs a command up to 3 times, waiting 10 s then 20 s between tries: a module
# download from the Go module proxy can fail once and pass on the next try.
# Says which command failed, and exits with its status after the last try.
set -uo pipefail
tries=3
for ((n = 1; ; n++)); do
  "$@" && exit 0
  rc=$?
  if ((n >= tries)); then
    echo "retry.sh: '$*' failed $tries times (exit $rc)" >&2
    exit "$rc"
  fi
  echo "retry.sh: '$*' failed (exit $rc); trying again in $((n * 10)) s" >&2
  sleep $((n * 10))
done

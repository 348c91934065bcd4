# Sourced first by hack/'s install scripts, after setting here (the hack directory):
# log lines named after the script, a failure naming the step it happened in, and
# retry for module downloads.
log() { echo "$(basename "$0" .sh): $*" >&2; }
step="checking the cache"
set -E
trap 'rc=$?; log "FAILED while $step (exit $rc)"; exit $rc' ERR
retry() { "$here/retry.sh" "$@"; }

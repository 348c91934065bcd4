# Sourced first by hack/'s install scripts, after setting here (the hack directory):
# log lines named after the script, a failure naming the step it happened in, and
# retry for module downloads.
log() { echo "$(basename "$0" .sh): $*" >&2; }
step="checking the cache"
set -E
trap 'rc=$?; log "FAILED while $step (exit $rc)"; exit $rc' ERR
retry() { "$here/retry.sh" "$@"; }

# use_cache_or_lock LOCKNAME: prints $ASSETS and exits when the script's complete
# function says the cache holds them; otherwise waits for the lock, since two
# callers (make test in two shells) must not build into the same place at once,
# and checks again.
use_cache_or_lock() {
  if complete; then
    echo "$ASSETS"
    exit 0
  fi
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/$1.lock"
  flock 9
  if complete; then
    echo "$ASSETS"
    exit 0
  fi
}

# install_assets DIR: moves the built DIR to $ASSETS in one step, so that an
# interrupted build never looks complete, and prints $ASSETS.
install_assets() {
  step="moving the binaries into $ASSETS"
  mkdir -p "$(dirname "$ASSETS")"
  rm -rf "$ASSETS.tmp"
  mv "$1" "$ASSETS.tmp"
  rm -rf "$ASSETS"
  mv "$ASSETS.tmp" "$ASSETS"
  echo "$ASSETS"
}

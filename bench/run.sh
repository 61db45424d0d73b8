#!/usr/bin/env bash
# Builds the release binaries (the server and orgbase-bench) and runs `orgbase bench`;
# flags pass through (see bench/README.md), e.g. ./bench/run.sh --seconds 10 --json bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
# wrk drives the load when it is there (the built-in generator tops out below the
# floor's rate on one core, see bench/README.md); install it where apt can.
if ! command -v wrk >/dev/null && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null || true
  elif command -v sudo >/dev/null; then sudo -n apt-get install -y -qq wrk >/dev/null || true; fi
fi
command -v wrk >/dev/null || echo "bench/run.sh: no wrk; the built-in load generator will be used" >&2
cargo build --release -p orgbase -p orgbase-bench
exec "${CARGO_TARGET_DIR:-target}/release/orgbase" bench "$@"

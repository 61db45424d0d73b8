#!/usr/bin/env bash
# Builds the release binaries (the server and orgbase-bench) and runs `orgbase bench`;
# flags pass through (see bench/README.md), e.g. ./bench/run.sh --seconds 10 --json bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p orgbase -p orgbase-bench
exec "${CARGO_TARGET_DIR:-target}/release/orgbase" bench "$@"

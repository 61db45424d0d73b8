#!/usr/bin/env bash
# Builds the release binary and runs `orgbase bench`; flags pass through
# (see bench/README.md), e.g. ./bench/run.sh --seconds 10 --json bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -p orgbase -- bench "$@"

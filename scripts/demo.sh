#!/usr/bin/env bash
# Sets up what is missing, builds the release server and its browser bundle, and serves Doui on
# the embedded SQLite database (./data) with demo data. Open one of the printed links.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
scripts/setup.sh
cargo leptos build --release
exec target/release/doui serve "$@"

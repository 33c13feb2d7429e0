#!/usr/bin/env bash
# Sets up what is missing, builds the release server and its browser bundle, and serves Doui on
# the embedded SQLite database (./data) with demo data. Open one of the printed links.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
scripts/setup.sh
# The site first, then the server that embeds it (cargo-leptos would build them side by side).
cargo leptos build --release --frontend-only
cargo leptos build --release --server-only
exec target/release/doui serve "$@"

#!/usr/bin/env bash
# Runs every test: format and lints, domain unit and property tests, store and HTTP tests on SQLite
# and PostgreSQL, the release build with its bundle budget, and the browser tests in Chromium.
# Installs what is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

start=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "setup"
scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "lint (server side, browser side)"
cargo clippy -p app --features ssr --all-targets -- -D warnings
cargo clippy -p server --all-targets -- -D warnings
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "domain: unit and property tests"
cargo test -p app --features ssr

step "store and HTTP: the same tests on SQLite and PostgreSQL"
cargo test -p server

step "release build (wasm and site first, then the server that embeds them)"
# In two steps: cargo-leptos builds the two side by side, and the server's build script must see
# the finished site to embed it (it embedded a half-written one when they raced).
cargo leptos build --release --frontend-only
cargo leptos build --release --server-only

step "bundle budget: the customer page downloads at most 150 KB (gzip -9)"
pkg=target/site/pkg
wasm=$(gzip -9 -c "$pkg/doui.wasm" | wc -c)
js=$(gzip -9 -c "$pkg/doui.js" | wc -c)
css=$(gzip -9 -c "$pkg/doui.css" | wc -c)
total=$((wasm + js + css))
echo "wasm ${wasm} B + js ${js} B + css ${css} B = ${total} B gzip"
# What browsers are sent: the server stores each file brotli-compressed (quality 11, window 2^22,
# as server/build.rs does) and sends that to every browser that accepts br.
br=$(node -e '
  const z = require("zlib"), fs = require("fs");
  const params = { [z.constants.BROTLI_PARAM_QUALITY]: 11, [z.constants.BROTLI_PARAM_LGWIN]: 22 };
  console.log(process.argv.slice(1).reduce((n, f) => n + z.brotliCompressSync(fs.readFileSync(f), { params }).length, 0));
' "$pkg/doui.wasm" "$pkg/doui.js" "$pkg/doui.css")
echo "as transferred (brotli): ${br} B"
if [ "$total" -gt $((150 * 1024)) ]; then
  echo "over budget: ${total} B > 150 KB" >&2
  exit 1
fi

step "one binary: the release doui serves the site from an empty directory"
scripts/one-binary.sh target/release/doui

step "browser tests (Playwright, Debian's Chromium)"
(cd end2end && npx playwright test)

step "Lighthouse, mobile profile: performance >= 0.95, accessibility and best practices 1.0"
scripts/lighthouse.sh

step "all tests passed"

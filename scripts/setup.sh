#!/usr/bin/env bash
# Installs what building, running and testing Doui needs, and skips what is already there.
# Everything comes from the package registries (crates.io, npm, Debian); nothing else is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132.0.0
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,"",$0); print; exit}' Cargo.lock)
TOOLS="$PWD/.tools"
export PATH="$TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# The downloads (npm packages, Debian's chromium) run alongside the builds below: they wait on
# the network while the compiler keeps the cores busy. Each one's output is shown if it fails.
LOGS=$(mktemp -d)
background=()
# Installed again when end2end/package.json gained a package the machine lacks.
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ] || [ ! -d "$TOOLS/node_modules/playwright-core" ] \
  || [ ! -d "$TOOLS/node_modules/@axe-core/playwright" ] || [ ! -x "$TOOLS/node_modules/.bin/lighthouse" ]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION), Playwright, axe-core and Lighthouse from npm (alongside)"
  mkdir -p "$TOOLS"
  (
    cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
    ln -sfn "$PWD/node_modules" "$TOOLS/node_modules"
  ) > "$LOGS/npm" 2>&1 &
  background+=("$!:npm")
fi
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium for the browser tests (alongside)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  (
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
  ) > "$LOGS/chromium" 2>&1 &
  background+=("$!:chromium")
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, ~6 min)"
  # --debug: installs in a third of the time and builds projects just as fast.
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads --debug
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once per machine, ~5 min)"
  # Not --locked: one of its locked dependencies is no longer on the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

for job in "${background[@]}"; do
  if ! wait "${job%%:*}"; then
    say "installing ${job#*:} failed:"
    cat "$LOGS/${job#*:}" >&2
    exit 1
  fi
done
rm -rf "$LOGS"

# The store tests need PostgreSQL (127.0.0.1:5432, or DATABASE_URL_PG); start a local cluster
# that is installed but stopped.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    say "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi

say "tools ready: $(cargo leptos --version), $(wasm-bindgen --version), wasm-opt $(wasm-opt --version | awk '{print $3}'), $(chromium --version 2>/dev/null | head -1)"

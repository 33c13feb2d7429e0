#!/usr/bin/env bash
# One binary: copies the release `doui` into an empty directory and runs it there on a fresh
# SQLite database, with no target/site beside it. The preference page and the site's files must
# come from the binary itself, precompressed (br, gzip) by what the browser accepts, the page
# naming the script, module and stylesheet by hashed names that browsers keep for good; SIGTERM
# must stop it with status 0. Run by scripts/test.sh after the release build (no build of its own).
set -euo pipefail
bin=$(realpath "${1:-target/release/doui}")
dir=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "one binary: $*" >&2; cat "$dir/log" >&2 2>/dev/null || true; exit 1; }

cp "$bin" "$dir/doui"
cd "$dir"
env -i PATH="$PATH" HOME="$dir" ./doui --version | grep -Eq '^doui [0-9]+\.[0-9]+\.[0-9]+ \(([0-9a-f]{7,}|unknown)\)$' \
  || fail "--version does not name the version and commit: $(./doui --version)"
export DOUI_DATA_DIR="$dir/data" DOUI_DEMO=false DOUI_LISTEN=127.0.0.1:0 DOUI_SHUTDOWN_DRAIN_MS=200
./doui serve > "$dir/out" 2> "$dir/log" &
pid=$!
base=""
for _ in $(seq 100); do
  base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$dir/out" | head -1 || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || fail "did not start"
grep -q "serving the site embedded in this binary" "$dir/log" || fail "no site embedded"

link=$(DOUI_PUBLIC_URL="$base" ./doui subject add --email one-binary@example.jp | grep -o "$base/p/[^ ]*" | head -1)
[ -n "$link" ] || fail "no link"
page=$(curl -sS -o "$dir/page" -w '%{http_code}' "$link")
[ "$page" = 200 ] || fail "the preference page answered $page"
stem=$(grep -o '/pkg/doui\.[0-9a-f]\{16\}\.css' "$dir/page" | head -1 | sed 's|^/pkg/||; s|\.css$||')
[ -n "$stem" ] || fail "the page links no stylesheet by a hashed name (/pkg/doui.<hash>.css)"
grep -q "/pkg/$stem.js" "$dir/page" || fail "the page loads no script by its hashed name /pkg/$stem.js"
enc=$(curl -sS -o /dev/null -D - -H 'Accept-Encoding: gzip' "$link" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
[ "$enc" = gzip ] || fail "the page was not compressed (content-encoding: '$enc')"
cache() { curl -sS -o /dev/null -D - "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="cache-control"{print $2}'; }
[ "$(cache "$link")" = no-store ] || fail "the preference page may be stored: '$(cache "$link")'"

for ext in wasm js css; do
  for want in br gzip; do
    headers=$(curl -sS -o "$dir/body" -D - -H "Accept-Encoding: $want" "$base/pkg/$stem.$ext" | tr -d '\r')
    echo "$headers" | head -1 | grep -q ' 200' || fail "/pkg/$stem.$ext ($want): $(echo "$headers" | head -1)"
    got=$(echo "$headers" | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
    [ "$got" = "$want" ] || fail "/pkg/$stem.$ext asked with $want came as '$got'"
  done
  [ "$(cache "$base/pkg/$stem.$ext")" = "public, max-age=31536000, immutable" ] \
    || fail "/pkg/$stem.$ext is not kept for good: '$(cache "$base/pkg/$stem.$ext")'"
  [ "$(cache "$base/pkg/doui.$ext")" = no-cache ] || fail "/pkg/doui.$ext (plain name) is not asked again"
  plain=$(curl -sS -o /dev/null -w '%{size_download}' "$base/pkg/$stem.$ext")
  echo "  /pkg/$stem.$ext: $plain B, $(stat -c %s "$dir/body") B gzip"
done
[ "$(head -c 4 <(curl -sS "$base/pkg/$stem.wasm") | od -An -tx1 | tr -d ' ')" = 0061736d ] \
  || fail "the wasm served without encoding is not a wasm module"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/pkg/doui.0000000000000000.wasm")" = 404 ] \
  || fail "a hashed name of another build is served"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" = 0 ] || fail "SIGTERM ended it with status $status"
echo "one binary: $(stat -c %s "$bin") B, served the page and the site from $dir"

#!/usr/bin/env bash
# Lighthouse's mobile profile (its default: a mid-range phone, slow 4G, CPU slowed 4x, simulated)
# against the release server's customer pages: home, the preference center behind a link and a
# message's unsubscribe page. Prints each page's scores and what fell short, and fails when
# performance is under 0.95 or accessibility or best practices under 1.0.
#
#   scripts/lighthouse.sh            # after `cargo leptos build --release` (both steps)
#
# DOUI_BIN names another binary; CHROME_PATH another Chromium (Debian's by default, never a
# downloaded one); LIGHTHOUSE_MIN_PERFORMANCE another threshold (e.g. on a loaded machine).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PWD/end2end/node_modules/.bin:$PATH"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
bin="${DOUI_BIN:-target/release/doui}"
min_performance="${LIGHTHOUSE_MIN_PERFORMANCE:-0.95}"

command -v lighthouse >/dev/null || { echo "lighthouse is missing: run scripts/setup.sh" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin is missing: cargo leptos build --release --frontend-only && cargo leptos build --release --server-only" >&2; exit 1; }

work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh server on an empty SQLite database with the demo data, as the browser tests use.
env -u DATABASE_URL DOUI_DATA_DIR="$work/data" DOUI_LISTEN="127.0.0.1:$port" DOUI_DEMO=true \
  DOUI_LOG=warn DOUI_SITE_ROOT="$PWD/target/site" "$bin" serve > "$work/out" 2>&1 &
server=$!
for _ in $(seq 300); do
  grep -q 'Doui is listening' "$work/out" && break
  kill -0 "$server" 2>/dev/null || { cat "$work/out" >&2; exit 1; }
  sleep 0.1
done
grep -q 'Doui is listening' "$work/out" || { echo "doui did not start" >&2; cat "$work/out" >&2; exit 1; }
link=$(awk '$1 == "demo-alex" { print $2 }' "$work/out")
[ -n "$link" ] || { echo "no demo link in the server's output" >&2; cat "$work/out" >&2; exit 1; }
token=${link##*/p/}
base="http://127.0.0.1:$port"

pages=(
  "home $base/?lang=en"
  "preference-center $base/p/$token?lang=en"
  "unsubscribe $base/u/$token?lang=en"
)
for entry in "${pages[@]}"; do
  name=${entry%% *}
  url=${entry#* }
  started=$(date +%s)
  lighthouse "$url" --quiet --output=json --output-path="$work/$name.json" \
    --only-categories=performance,accessibility,best-practices \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu --no-first-run" >/dev/null
  echo "$name: measured in $(( $(date +%s) - started )) s" >> "$work/times"
done

status=0
node - "$work" "$min_performance" <<'EOF' || status=$?
const fs = require('fs');
const [dir, minPerf] = process.argv.slice(2);
const min = { performance: Number(minPerf), accessibility: 1, 'best-practices': 1 };
let failed = false;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${file}`, 'utf8'));
  const scores = Object.entries(min).map(([id, floor]) => {
    const score = r.categories[id].score;
    if (score < floor) failed = true;
    return `${id} ${score.toFixed(2)}${score < floor ? ` (under ${floor})` : ''}`;
  });
  const m = (id) => r.audits[id].displayValue;
  console.log(`${file.replace('.json', '')}: ${scores.join(', ')}`);
  console.log(`  FCP ${m('first-contentful-paint')}, LCP ${m('largest-contentful-paint')}, TBT ${m('total-blocking-time')}, CLS ${m('cumulative-layout-shift')}, SI ${m('speed-index')}, transferred ${m('total-byte-weight')}`);
  for (const [id, floor] of Object.entries(min)) {
    if (r.categories[id].score >= floor) continue;
    for (const ref of r.categories[id].auditRefs) {
      const a = r.audits[ref.id];
      if (ref.weight > 0 && a.score !== null && a.score < 1) console.log(`  ${id}: ${a.id} ${a.score} — ${a.title}${a.displayValue ? ` (${a.displayValue})` : ''}`);
    }
  }
}
process.exit(failed ? 1 : 0);
EOF
cat "$work/times"
exit $status

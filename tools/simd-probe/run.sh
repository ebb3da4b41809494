#!/bin/sh
# Builds the probe, serves it on localhost and runs it once in headless Chromium.
# Usage: tools/simd-probe/run.sh   (prints the three kernels' times and ratios)
set -eu
cd "$(dirname "$0")"
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
    cargo build --release --target wasm32-unknown-unknown --target-dir target
mkdir -p target/site
cp index.html target/site/
cp target/wasm32-unknown-unknown/release/simd_probe.wasm target/site/
log=$(mktemp)
python3 -m http.server 8765 --bind 127.0.0.1 --directory target/site >"$log" 2>&1 &
server=$!
trap 'kill $server; rm -rf "$log" target/profile' EXIT
sleep 1
timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir=target/profile http://127.0.0.1:8765/index.html >/dev/null 2>&1 &
for _ in $(seq 60); do
    grep -q 'GET /result' "$log" && break
    sleep 1
done
grep 'GET /result' "$log" | sed 's/.*GET \/result?//; s/ HTTP.*//' |
    python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read()))'

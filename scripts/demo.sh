#!/usr/bin/env bash
# The first README command: installs what is missing, builds, and runs the
# main job: a `ferry serve` on loopback receives a generated 1 GiB file and a
# generated tree of 20,000 small files; the results and throughput are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
FERRY=$PWD/${BUILD_DIR:-build}/bin/ferry
GEN=$PWD/${BUILD_DIR:-build}/bin/gen-tree

work=$(mktemp -d /tmp/ferry-demo.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== generating a 1 GiB file and a tree of 20,000 files in $work"
mkdir -p "$work/src"
"$GEN" file "$work/src/big.bin" 1G
"$GEN" tree "$work/src/tree" 20000 300M
mkdir -p "$work/served"
sync  # start with no dirty pages, so writeback of the inputs does not throttle the copies

export FERRY_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$FERRY" serve "$work/served" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "serving" "$work/serve.log" 2>/dev/null && break; sleep 0.05; done
addr=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1)
echo "== ferry serve on $addr"

# On a terminal ferry shows progress and, below it, the live verdict: which
# stage limits the transfer and the kernel's numbers behind it.
echo "== upload: 1 GiB file"
"$FERRY" cp --json "$work/src/big.bin" "ferry://$addr/" >"$work/file.json"
echo "== upload: 20,000-file tree"
"$FERRY" cp -r --json "$work/src/tree" "ferry://$addr/" >"$work/tree.json"

cmp "$work/src/big.bin" "$work/served/big.bin"
diff -r "$work/src/tree" "$work/served/tree" >/dev/null
rate() { sed -E 's/.*"bytes_per_second":([0-9.e+]+).*/\1/' "$1" | awk '{printf "%.2f GB/s", $1/1e9}'; }
secs() { sed -E 's/.*"seconds":([0-9.e+]+).*/\1/' "$1" | awk '{printf "%.2f s", $1}'; }
echo
echo "RESULT: 1 GiB file      $(secs "$work/file.json")  $(rate "$work/file.json")  (verified identical)"
echo "RESULT: 20,000 files    $(secs "$work/tree.json")  $(rate "$work/tree.json")  (verified identical)"
limit() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("limit: %s - %s" % (j["bottleneck"], j["evidence"])); print("advice: " + j["advice"])' "$1"; }
echo
echo "1 GiB file:   $(limit "$work/file.json")"
echo "20,000 files: $(limit "$work/tree.json")"

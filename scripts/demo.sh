#!/usr/bin/env bash
# The first README command: installs what is missing, builds, and runs the
# main job, where both halves meet: two berth containers on the default
# bridge network, `ferry serve` in one and `ferry cp` pulling a file into the other
# across the bridge: first with the receiving program's output throttled, so
# ferry's verdict shows the receiver's window closing because its program does
# not drain its socket buffer (sink-write), then unthrottled. The containers
# run in a network namespace of the demo's own, so the host's network is left
# as it was. Then, on loopback, a `ferry serve` receives a generated 1 GiB
# file and a tree of 20,000 small files; results and throughput are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
FERRY=$PWD/${BUILD_DIR:-build}/bin/ferry
GEN=$PWD/${BUILD_DIR:-build}/bin/gen-tree
BERTH=$PWD/${BUILD_DIR:-build}/bin/berth

work=$(mktemp -d /tmp/ferry-demo.XXXXXX)
server_pid=""
ns=berth-demo-$$
berth() { nsenter --net="/run/netns/$ns" "$BERTH" --root "$work/berth" --run-root "$work/berth-run" "$@"; }
cleanup() {
  set +e  # everything below is attempted, whatever fails
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [ -e "/run/netns/$ns" ]; then
    for id in $(berth ps -a -q 2>/dev/null); do berth rm -f "$id" >/dev/null 2>&1 || true; done
    ip netns del "$ns"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
verdict() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%.2f s, %.1f MB/s; limit: %s - %s" % (j["seconds"], j["bytes_per_second"]/1e6, j["bottleneck"], j["evidence"]))' "$1"; }

echo "== berth: an image of busybox + ferry + pv, imported with berth import"
root=$work/image
mkdir -p "$root"/{bin,proc,sys,dev,etc,tmp,srv,out}
cp /bin/busybox "$root/bin/"
for applet in sh cat echo ls sleep; do ln -s busybox "$root/bin/$applet"; done
with_libraries() {  # a program and the shared libraries it loads
  cp "$1" "$root/bin/"
  for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
with_libraries "$FERRY"
with_libraries "$(command -v pv)"
tar -C "$root" -cf "$work/image.tar" .
ip netns add "$ns"
ip -n "$ns" link set lo up
berth import "$work/image.tar" localhost/ferry-demo >/dev/null
mkdir -p "$work/share" "$work/received"
"$GEN" file "$work/share/payload.bin" 128M
export FERRY_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
berth run -d --name ferry-server -e FERRY_TOKEN -v "$work/share:/srv:ro" localhost/ferry-demo \
  ferry serve --listen 0.0.0.0:7077 /srv >/dev/null
server_ip=$(berth inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ferry-server)
echo "== ferry serve in container ferry-server at $server_ip (the default bridge network)"
echo "== ferry cp in a second container; its program reads the output at 16 MB/s (pv -L 16m)"
berth run --rm -e FERRY_TOKEN -v "$work/received:/out" localhost/ferry-demo \
  sh -c "ferry cp --json ferry://$server_ip:7077/payload.bin - 2>/out/slow.json | pv -q -L 16m >/dev/null"
echo "== the same transfer, written straight to the container's file"
berth run --rm -e FERRY_TOKEN -v "$work/received:/out" localhost/ferry-demo \
  ferry cp --json "ferry://$server_ip:7077/payload.bin" /out/payload.bin >"$work/received/fast.json"
cmp "$work/share/payload.bin" "$work/received/payload.bin"
echo
echo "RESULT: container to container, throttled reader: $(verdict "$work/received/slow.json")"
echo "RESULT: container to container, unthrottled:      $(verdict "$work/received/fast.json") (verified identical)"
echo

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

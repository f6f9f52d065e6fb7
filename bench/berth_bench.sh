#!/usr/bin/env bash
# berth against podman, side by side in one run.
#   bash bench/berth_bench.sh [--quick] [--skip-pull]
# 1. `run --rm --network none` of /bin/true in a busybox image (both engines
#    import the same rootfs tar), `berth-oci run` of the same rootfs as a bare
#    bundle (what the engine adds on top of its runtime), and `exec` of
#    /bin/true into a running container: hyperfine medians; then the three
#    runs again, each after a 0.2 s pause (what one `run` costs a user).
# 2. Pulling one large gzip layer (80,000 files of pseudo-random bytes) from
#    Debian's docker-registry on 127.0.0.1: berth pull and podman pull,
#    against the floor `gzip -dc LAYER | tar x` (and zstd's), each timed once.
# Like bench/oci_bench.sh, all of it runs in one private mount namespace with
# /sys/fs/cgroup/unified/cgroup.controllers hidden, so podman's crun runs on
# this hybrid cgroup host; podman gets private --root/--runroot and cgroupfs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=30
PAUSED_RUNS=15
FILES=80000
TOTAL=$((520 * 1024 * 1024))
for a in "$@"; do
  case $a in
    --quick) RUNS=10 PAUSED_RUNS=5 FILES=8000 TOTAL=$((52 * 1024 * 1024)) ;;
    --skip-pull) SKIP_PULL=1 ;;
  esac
done
if [ "${BERTH_BENCH_INSIDE:-}" != 1 ]; then
  bash scripts/install-deps.sh --with-test-tools
  bash scripts/build.sh
  exec env BERTH_BENCH_INSIDE=1 unshare --mount --propagation private bash "$0" "$@"
fi
mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true
BIN=$PWD/build/bin
# In memory (tmpfs), as bench/ferry_bench.sh: the pipeline is measured, not
# this VM's ext4, whose file creation slows down for a while after many
# deletions (ext4 avoids recently freed inodes) and would favour whoever runs first.
W=$(mktemp -d /dev/shm/berth-bench.XXXXXX)
BERTH="$BIN/berth --root $W/berth --run-root $W/berth-run"
PODMAN="podman --root $W/podman --runroot $W/podman-run --cgroup-manager cgroupfs --events-backend none"
PODMAN_RUN_OPTS="--network none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000"
REGISTRY_PID=
cleanup() {
  $BERTH rm -f bench-exec >/dev/null 2>&1 || true
  $PODMAN rm -f bench-exec >/dev/null 2>&1 || true
  [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null || true
  $PODMAN system reset -f >/dev/null 2>&1 || true
  umount -R "$W/berth" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); $(podman --version), $(crun --version | head -1)"
# One rootfs for everyone.
mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/etc" "$W/rootfs/tmp"
cp /bin/busybox "$W/rootfs/bin/"
for a in sh true sleep cat; do ln -s busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
$BERTH import "$W/rootfs.tar" localhost/box >/dev/null
$PODMAN import "$W/rootfs.tar" localhost/box >/dev/null
mkdir -p "$W/bundle" && cp -a "$W/rootfs" "$W/bundle/rootfs"
(cd "$W/bundle" && "$BIN/berth-oci" spec)
python3 - "$W/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(sys.argv[1], "w"))
PY

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/run.json" \
  -n "podman run" "$PODMAN run --rm $PODMAN_RUN_OPTS localhost/box /bin/true" \
  -n "berth run" "$BERTH run --rm --network none localhost/box /bin/true" \
  -n "berth-oci run" "$BIN/berth-oci --root $W/oci-state run --bundle $W/bundle bench-run" \
  >"$W/hyperfine.log" || { cat "$W/hyperfine.log"; exit 1; }
# The same three, each run after a 0.2 s pause and in turn (podman, berth,
# berth-oci, podman, ...), as a user starts one container: kernel state that
# a tight loop keeps warm (the RCU grace period a cgroup migration waits
# for) is paid in full here.
python3 - "$W/paused.json" "$PAUSED_RUNS" \
  "podman run (paused)" "$PODMAN run --rm $PODMAN_RUN_OPTS localhost/box /bin/true" \
  "berth run (paused)" "$BERTH run --rm --network none localhost/box /bin/true" \
  "berth-oci run (paused)" "$BIN/berth-oci --root $W/oci-state run --bundle $W/bundle bench-run" <<'PY'
import json, shlex, subprocess, sys, time
out, runs, pairs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
cmds = list(zip(pairs[0::2], pairs[1::2]))
times = {name: [] for name, _ in cmds}
for _ in range(runs + 1):  # the first round warms up
    for name, cmd in cmds:
        time.sleep(0.2)
        t0 = time.perf_counter()
        subprocess.run(shlex.split(cmd), check=True, stdout=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - t0)
results = []
for name, t in times.items():
    t = sorted(t[1:])
    results.append({"command": name, "median": t[len(t) // 2], "times": t})
json.dump({"results": results}, open(out, "w"))
PY
$BERTH run -d --network none --name bench-exec localhost/box sleep 100000 >/dev/null
$PODMAN run -d --name bench-exec $PODMAN_RUN_OPTS localhost/box sleep 100000 >/dev/null
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/exec.json" \
  -n "podman exec" "$PODMAN exec bench-exec /bin/true" \
  -n "berth exec" "$BERTH exec bench-exec /bin/true" \
  >"$W/hyperfine.log" || { cat "$W/hyperfine.log"; exit 1; }
python3 - "$W/run.json" "$W/exec.json" "$W/paused.json" <<'PY'
import json, sys
m = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        m[r["command"]] = r["median"] * 1000
        t = [x * 1000 for x in r["times"]]
        print(f"{r['command']:24} median {m[r['command']]:7.1f} ms  min {min(t):7.1f}  max {max(t):7.1f}")
print(f"berth run / podman run: {m['berth run'] / m['podman run']:.3f}x (bar: <= 0.1x, issue 18)")
print(f"berth run - berth-oci run: {m['berth run'] - m['berth-oci run']:+.1f} ms (bar: <= ~20 ms)")
print(f"berth exec / podman exec: {m['berth exec'] / m['podman exec']:.3f}x")
print(f"paused: berth run / podman run: {m['berth run (paused)'] / m['podman run (paused)']:.3f}x, "
      f"berth run - berth-oci run: {m['berth run (paused)'] - m['berth-oci run (paused)']:+.1f} ms")
PY

[ -n "${SKIP_PULL:-}" ] && exit 0
# The large layer, pushed to a local registry.
"$BIN/gen-tree" tree "$W/big" "$FILES" "$TOTAL" --seed 7 >/dev/null
tar -C "$W/big" -cf "$W/big.tar" .
gzip -c "$W/big.tar" >"$W/big.tar.gz"
zstd -q -c "$W/big.tar" >"$W/big.tar.zst"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/registry}}
http: {addr: 127.0.0.1:$PORT}
YML
docker-registry serve "$W/registry.yml" 2>/dev/null & REGISTRY_PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
mkdir -p "$W/layout/blobs/sha256"
python3 - "$W/layout" "$W/big.tar" "$W/big.tar.gz" <<'PY'
import hashlib, json, os, shutil, sys
layout, tar, gz = sys.argv[1:4]
def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(f"{layout}/blobs/sha256/{d[7:]}", "wb").write(data)
    return d, len(data)
layer = digest(gz)
shutil.copy(gz, f"{layout}/blobs/sha256/{layer[7:]}")
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [digest(tar)]}}).encode()
cd, cs = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer,
                "size": os.path.getsize(gz)}]}).encode()
md, ms = put(manifest)
open(f"{layout}/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "big"}}]},
    open(f"{layout}/index.json", "w"))
PY
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$W/layout:big" "docker://127.0.0.1:$PORT/big:1"
echo "== layer: $(du -m "$W/big.tar.gz" | cut -f1) MB gzip, $(du -m "$W/big.tar" | cut -f1) MB tar, $FILES files"
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
mkdir -p "$W/x1" "$W/x2"
T_GZ=$(secs sh -c "gzip -dc $W/big.tar.gz | tar x -C $W/x1")
T_ZS=$(secs sh -c "zstd -dc $W/big.tar.zst | tar x -C $W/x2")
T_BERTH=$(secs $BIN/berth --root "$W/pull-berth" pull --insecure "127.0.0.1:$PORT/big:1")
T_PODMAN=$(secs $PODMAN pull --tls-verify=false "127.0.0.1:$PORT/big:1")
$BIN/berth --root "$W/pull-berth" images | grep -q big || { echo "berth pull failed"; exit 1; }
python3 - "$T_GZ" "$T_ZS" "$T_BERTH" "$T_PODMAN" <<'PY'
import sys
gz, zs, berth, podman = map(float, sys.argv[1:5])
print(f"gzip -dc | tar x {gz:7.1f} s   zstd -dc | tar x {zs:7.1f} s")
print(f"berth pull       {berth:7.1f} s   {berth / gz:.2f}x the gzip floor (bar: <= 1.2x)")
print(f"podman pull      {podman:7.1f} s   {podman / gz:.2f}x the gzip floor; berth / podman {berth / podman:.2f}x")
PY

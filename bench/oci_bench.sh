#!/usr/bin/env bash
# berth-oci against crun and runc, side by side in one run, on one bundle
# (busybox-static rootfs, `runc spec` config, /bin/true as the program).
#   bash bench/oci_bench.sh [--quick]
# Rows: `run` (create+start+wait+delete) and `exec` into a running container,
# median wall time (hyperfine), and peak RSS (max of GNU time's %M over runs).
# crun refuses a hybrid cgroup host; like the issue says, everything runs in
# one private mount namespace where /sys/fs/cgroup/unified/cgroup.controllers
# is hidden, so all three runtimes pay the same.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=40
[ "${1:-}" = "--quick" ] && RUNS=10
if [ "${BERTH_BENCH_INSIDE:-}" != 1 ]; then
  bash scripts/install-deps.sh --with-test-tools
  bash scripts/build.sh
  exec env BERTH_BENCH_INSIDE=1 unshare --mount --propagation private bash "$0" "$@"
fi
mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true
BERTH=$PWD/build/bin/berth-oci
W=$(mktemp -d /tmp/oci-bench.XXXXXX)
cleanup() {
  for r in crun runc "$BERTH"; do "$r" --root "$W/state-$(basename "$r")" delete --force bench-exec >/dev/null 2>&1 || true; done
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/bundle/rootfs/bin" "$W/bundle/rootfs/proc" "$W/bundle/rootfs/sys" "$W/bundle/rootfs/dev"
cp /bin/busybox "$W/bundle/rootfs/bin/"
for a in sh true sleep; do ln -s busybox "$W/bundle/rootfs/bin/$a"; done
(cd "$W/bundle" && runc spec)
python3 - "$W/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(sys.argv[1], "w"))
PY

runtimes=(crun runc "$BERTH")
name() { basename "$1"; }
echo "== machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); crun $(crun --version | head -1 | awk '{print $3}'), runc $(runc --version | head -1 | awk '{print $3}')"

run_cmds=() exec_cmds=()
for r in "${runtimes[@]}"; do
  run_cmds+=(-n "$(name "$r") run" "$r --root $W/state-$(name "$r") run --bundle $W/bundle bench-run")
done
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/run.json" "${run_cmds[@]}" >"$W/hyperfine.log" || { cat "$W/hyperfine.log"; exit 1; }

# exec needs a running container per runtime.
python3 - "$W/bundle/config.json" "$W/bundle/sleep.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sleep", "100000"]
json.dump(c, open(sys.argv[2], "w"))
PY
mkdir -p "$W/sleep-bundle" && cp "$W/bundle/sleep.json" "$W/sleep-bundle/config.json" && cp -a "$W/bundle/rootfs" "$W/sleep-bundle/"
for r in "${runtimes[@]}"; do
  "$r" --root "$W/state-$(name "$r")" run --detach --bundle "$W/sleep-bundle" bench-exec </dev/null >/dev/null
  exec_cmds+=(-n "$(name "$r") exec" "$r --root $W/state-$(name "$r") exec bench-exec /bin/true")
done
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/exec.json" "${exec_cmds[@]}" >"$W/hyperfine.log" || { cat "$W/hyperfine.log"; exit 1; }

peak() {  # peak RSS in KB over 10 runs of "$@"
  local max=0 kb
  for _ in $(seq 10); do
    /usr/bin/time -f %M -o "$W/rss" "$@" >/dev/null 2>&1 || true
    kb=$(tail -1 "$W/rss")
    [ "$kb" -gt "$max" ] && max=$kb
  done
  echo "$max"
}
declare -A RSS_RUN RSS_EXEC
for r in "${runtimes[@]}"; do
  RSS_RUN[$r]=$(peak "$r" --root "$W/state-$(name "$r")" run --bundle "$W/bundle" bench-peak)
  RSS_EXEC[$r]=$(peak "$r" --root "$W/state-$(name "$r")" exec bench-exec /bin/true)
done

python3 - "$W/run.json" "$W/exec.json" "${RSS_RUN[crun]}" "${RSS_RUN[runc]}" "${RSS_RUN[$BERTH]}" \
  "${RSS_EXEC[crun]}" "${RSS_EXEC[runc]}" "${RSS_EXEC[$BERTH]}" <<'PY'
import json, sys
run = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
exe = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
rss_run = dict(zip(["crun", "runc", "berth-oci"], map(int, sys.argv[3:6])))
rss_exec = dict(zip(["crun", "runc", "berth-oci"], map(int, sys.argv[6:9])))
print(f"{'':10} {'run median':>11} {'exec median':>12} {'run peak RSS':>13} {'exec peak RSS':>14}")
for n in ["crun", "runc", "berth-oci"]:
    print(f"{n:10} {run[n + ' run']['median']*1000:9.1f}ms {exe[n + ' exec']['median']*1000:10.1f}ms "
          f"{rss_run[n]/1024:10.1f} MB {rss_exec[n]/1024:11.1f} MB")
b = "berth-oci"
for other in ["crun", "runc"]:
    print(f"berth-oci / {other}: run {run[b + ' run']['median'] / run[other + ' run']['median']:.2f}x, "
          f"exec {exe[b + ' exec']['median'] / exe[other + ' exec']['median']:.2f}x, "
          f"peak RSS run {rss_run[b] / rss_run[other]:.2f}x, exec {rss_exec[b] / rss_exec[other]:.2f}x "
          f"(below 1.00 = berth-oci is faster / smaller)")
PY

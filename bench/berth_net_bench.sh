#!/usr/bin/env bash
# berth's bridge networking, with podman and iperf3 in the same run.
#   bash bench/berth_net_bench.sh [--quick]
# 1. `run --rm` of /bin/true with the default bridge against `--network none`:
#    what network setup costs, for berth and for podman (CNI bridge), hyperfine
#    medians.
# 2. iperf3 between two berth containers over the bridge (MTU 1500, and a
#    network made with --mtu 65535, loopback's size), against iperf3 over
#    loopback, 10 s each.
# 3. A published port (-p) against the container's own address: iperf3 from
#    the host to 127.0.0.1:HOSTPORT (DNAT) and to the container, 10 s each.
# Everything runs in a network namespace made here (the bridges, rules and
# forwarding stay in it, and go with it) and, as bench/berth_bench.sh, with
# /sys/fs/cgroup/unified/cgroup.controllers hidden so podman's crun runs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=30
SECONDS_PER_TEST=10
for a in "$@"; do
  case $a in
    --quick) RUNS=10 SECONDS_PER_TEST=3 ;;
  esac
done
if [ "${BERTH_NET_BENCH_INSIDE:-}" != 1 ]; then
  bash scripts/install-deps.sh --with-test-tools
  bash scripts/build.sh
  ns=berth-net-bench-$$
  ip netns add "$ns"
  trap 'ip netns del "$ns"' EXIT
  ip -n "$ns" link set lo up
  # Not `ip netns exec`: its fresh /sys has no cgroup mounts.
  BERTH_NET_BENCH_INSIDE=1 nsenter --net="/run/netns/$ns" \
    unshare --mount --propagation private bash "$0" "$@"
  exit
fi
mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true
BIN=$PWD/build/bin
W=$(mktemp -d /dev/shm/berth-net-bench.XXXXXX)
BERTH="$BIN/berth --root $W/berth --run-root $W/berth-run"
PODMAN="podman --root $W/podman --runroot $W/podman-run --cgroup-manager cgroupfs --events-backend none"
PODMAN_OPTS="--ulimit nofile=1024:1024 --ulimit nproc=1000:1000"
cleanup() {
  set +e
  for id in $($BERTH ps -a -q 2>/dev/null); do $BERTH rm -f "$id" >/dev/null 2>&1; done
  pkill -f "iperf3 -s -p 5299" 2>/dev/null
  $PODMAN system reset -f >/dev/null 2>&1
  umount -R "$W/berth" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); $(podman --version), $(iperf3 --version | head -1)"
# One image: busybox, iperf3 and the libraries it loads.
root=$W/rootfs
mkdir -p "$root"/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$root/bin/"
for a in sh true sleep cat; do ln -s busybox "$root/bin/$a"; done
cp "$(command -v iperf3)" "$root/bin/"
for lib in $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
tar -C "$root" -cf "$W/rootfs.tar" .
$BERTH import "$W/rootfs.tar" localhost/net >/dev/null
$PODMAN import "$W/rootfs.tar" localhost/net >/dev/null
# Warm both: the first run creates berth0 and podman's CNI bridge.
$BERTH run --rm localhost/net true
$PODMAN run --rm $PODMAN_OPTS localhost/net /bin/true

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/run.json" \
  -n "berth none" "$BERTH run --rm --network none localhost/net /bin/true" \
  -n "berth bridge" "$BERTH run --rm localhost/net /bin/true" \
  -n "podman none" "$PODMAN run --rm --network none $PODMAN_OPTS localhost/net /bin/true" \
  -n "podman bridge" "$PODMAN run --rm $PODMAN_OPTS localhost/net /bin/true" \
  >"$W/hyperfine.log" || { cat "$W/hyperfine.log"; exit 1; }

gbps() { python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$1"; }
# Loopback of the namespace: the ceiling.
iperf3 -s -p 5299 -D
sleep 0.3
iperf3 -c 127.0.0.1 -p 5299 -t "$SECONDS_PER_TEST" -J >"$W/loopback.json"
pkill -f "iperf3 -s -p 5299" || true
# Container to container over the bridge, and a published port.
$BERTH run -d --name iperf-server -p 5202:5201 localhost/net iperf3 -s >/dev/null
server_ip=$($BERTH inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' iperf-server)
sleep 0.3
$BERTH run --rm localhost/net iperf3 -c "$server_ip" -t "$SECONDS_PER_TEST" -J >"$W/bridge.json"
# The same over a network whose MTU is loopback's size.
$BERTH network create --mtu 65535 jumbo >/dev/null
$BERTH run -d --name iperf-jumbo --network jumbo localhost/net iperf3 -s >/dev/null
jumbo_ip=$($BERTH inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' iperf-jumbo)
sleep 0.3
$BERTH run --rm --network jumbo localhost/net iperf3 -c "$jumbo_ip" -t "$SECONDS_PER_TEST" -J \
  >"$W/jumbo.json"
iperf3 -c "$server_ip" -t "$SECONDS_PER_TEST" -J >"$W/direct.json"
iperf3 -c 127.0.0.1 -p 5202 -t "$SECONDS_PER_TEST" -J >"$W/published.json"

python3 - "$W/run.json" <<'PY'
import json, sys
m = {r["command"]: r["median"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
for k, v in m.items():
    print(f"{k:14} median {v:8.1f} ms")
print(f"berth: network setup (bridge - none): {m['berth bridge'] - m['berth none']:+.1f} ms (bar: <= 10 ms)")
print(f"podman: network setup (bridge - none): {m['podman bridge'] - m['podman none']:+.1f} ms")
print(f"berth run with bridge / podman run with bridge: {m['berth bridge'] / m['podman bridge']:.3f}x")
PY
lo=$(gbps "$W/loopback.json")
br=$(gbps "$W/bridge.json")
direct=$(gbps "$W/direct.json")
pub=$(gbps "$W/published.json")
echo "iperf3 loopback                 $lo Gbit/s"
jumbo=$(gbps "$W/jumbo.json")
echo "iperf3 container -> container   $br Gbit/s   $(python3 -c "print('%.2f' % ($br / $lo))")x loopback (aim: >= 0.8x), MTU 1500"
echo "iperf3 container -> container   $jumbo Gbit/s   $(python3 -c "print('%.2f' % ($jumbo / $lo))")x loopback, network --mtu 65535"
echo "iperf3 host -> container        $direct Gbit/s"
echo "iperf3 host -> published port   $pub Gbit/s   $(python3 -c "print('%.2f' % ($pub / $direct))")x the container's own address"

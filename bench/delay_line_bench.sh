#!/usr/bin/env bash
# How close a delay-line path comes to its configured rate, and what the
# delay line costs in CPU while iperf3 runs on both ends of it.
#   bash bench/delay_line_bench.sh   (DELAY=50ms RATE=1gbit SECS=12 OMIT=2 by default)
# Cases, each one iperf3 run of SECS seconds from namespace a to b, the
# first OMIT of them (slow start) not counted:
#   -P 1 and -P 4 through DELAY / RATE, TCP buffers raised to 64 MiB
#   -P 1 through DELAY with no rate: the delay line's own ceiling here
# Prints the receiver's rate, its share of RATE (TCP payload: at MTU 1500
# with timestamps at most 96.5%), retransmissions, and the delay line's CPU
# time as a share of one core (from /proc/PID/stat, the whole run).
# CC=cubic (or bbr, reno) is passed to iperf3 -C: a namespace may only
# default to the host's tcp_allowed_congestion_control.
# DELAY_LINE=path uses that binary and skips install and build.
set -euo pipefail
cd "$(dirname "$0")/.."
DELAY=${DELAY:-50ms}
RATE=${RATE:-1gbit}
SECS=${SECS:-12}
OMIT=${OMIT:-2}
if [ -z "${DELAY_LINE:-}" ]; then
  bash scripts/install-deps.sh --with-test-tools
  bash scripts/build.sh
fi
source bench/lib/delay_path.sh
NS_A=delay-bench-a-$$ NS_B=delay-bench-b-$$
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run LABEL RATE_BITS IPERF_ARGS...: one iperf3 run through the path now up.
run() {
  local label=$1 rate_bits=$2
  shift 2
  ip netns exec $NS_B iperf3 -s -1 -B "$DELAY_PATH_ADDR_B" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 200); do
    ip netns exec $NS_B ss -Hltn 'sport = :5201' | grep -q . && break
    sleep 0.05
  done
  local t0 c0 t1 c1
  t0=$(date +%s.%N) c0=$(cpu_ticks "$DELAY_PATH_PID")
  ip netns exec $NS_A iperf3 -c "$DELAY_PATH_ADDR_B" -t "$SECS" -O "$OMIT" -J \
    ${CC:+-C "$CC"} "$@" >"$W/iperf.json"
  t1=$(date +%s.%N) c1=$(cpu_ticks "$DELAY_PATH_PID")
  wait $server || true
  python3 - "$W/iperf.json" "$label" "$rate_bits" "$(echo "($c1 - $c0) / $TICK / ($t1 - $t0)" | bc -l)" <<'PY'
import json, sys
end = json.load(open(sys.argv[1]))["end"]
label, rate, cpu = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
got = end["sum_received"]["bits_per_second"]
share = f"{got / rate:6.1%} of the rate" if rate else " (no rate)      "
print(f"  {label:<22} {got / 1e6:7.0f} Mbit/s {share}  retransmits {end['sum_sent'].get('retransmits', 0):>6}"
      f"  delay-line CPU {cpu:5.1%} of a core")
PY
}

rate_bits() {
  python3 -c 'import re,sys; m=re.fullmatch(r"([0-9.]+)([kmgt]?)bit", sys.argv[1].lower()); print(float(m[1]) * {"":1,"k":1e3,"m":1e6,"g":1e9,"t":1e12}[m[2]])' "$1"
}

W=$(mktemp -d /tmp/delay-bench.XXXXXX)
trap 'delay_path_down; rm -rf "$W"' EXIT
echo "== delay line: ${DELAY} each way (RTT twice that), rate ${RATE}, ${SECS} s per run, $(nproc) cores"
# path_up RATE: the path and its TCP buffers.
path_up() {
  delay_path_up $NS_A $NS_B "$DELAY" "$1"
  delay_path_tcp_buffers $((64 << 20))
}
path_up "$RATE"
echo "  congestion control: ${CC:-$(ip netns exec $NS_A sysctl -n net.ipv4.tcp_congestion_control)}"
run "iperf3 -P 1" "$(rate_bits "$RATE")" -P 1
run "iperf3 -P 4" "$(rate_bits "$RATE")" -P 4
delay_path_down
path_up ""
run "iperf3 -P 1, no rate" 0 -P 1

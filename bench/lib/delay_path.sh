# shellcheck shell=bash
# A long network path for the bench scripts: two network namespaces joined
# by build/bin/delay-line (tools/delay_line), with a one-way delay each way
# (RTT = 2 x DELAY) and a rate limit. Source it, then:
#
#   delay_path_up NS_A NS_B DELAY RATE [more delay-line arguments]
#       e.g. delay_path_up bench-a bench-b 50ms 1gbit; RATE "" for none.
#       Makes both namespaces (lo up), starts delay-line with
#       $DELAY_PATH_NET.1/24 in NS_A and .2/24 in NS_B, and returns once the
#       path carries packets. Sets DELAY_PATH_ADDR_A, DELAY_PATH_ADDR_B and
#       DELAY_PATH_PID (for CPU accounting). Fails if a namespace exists.
#   delay_path_tcp_buffers BYTES
#       Raises the tcp_rmem/tcp_wmem maxima in both namespaces (they are
#       per-namespace sysctls), so one TCP flow can fill a long fat path: a
#       100 ms / 1 Gbit path holds 12.5 MB.
#   delay_path_down
#       Stops delay-line (its counts go to stderr) and deletes both
#       namespaces. Safe to call twice or after a failed up: use it in an
#       EXIT trap.
#
# DELAY_LINE names the program (default: build/bin/delay-line under the
# repository); DELAY_PATH_NET the /24 to use (default 10.204.250).

DELAY_PATH_NS_A='' DELAY_PATH_NS_B='' DELAY_PATH_PID='' DELAY_PATH_LOG=''

delay_path_up() {
  local ns_a=${1:?delay_path_up NS_A NS_B DELAY RATE} ns_b=${2:?NS_B} delay=${3:?DELAY} rate=${4-}
  shift 4 || shift $#
  local bin=${DELAY_LINE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin/delay-line}
  local net=${DELAY_PATH_NET:-10.204.250}
  [ -x "$bin" ] || { echo "delay_path_up: no delay-line at $bin (build it)" >&2; return 1; }
  ip netns add "$ns_a" || return 1
  DELAY_PATH_NS_A=$ns_a
  ip netns add "$ns_b" || return 1
  DELAY_PATH_NS_B=$ns_b
  ip -n "$ns_a" link set lo up && ip -n "$ns_b" link set lo up || return 1
  DELAY_PATH_ADDR_A=$net.1 DELAY_PATH_ADDR_B=$net.2
  DELAY_PATH_LOG=$(mktemp -d /tmp/delay-path.XXXXXX) || return 1
  local args=(--ns-a "$ns_a" --ns-b "$ns_b" --addr-a "$DELAY_PATH_ADDR_A/24"
    --addr-b "$DELAY_PATH_ADDR_B/24" --delay "$delay")
  [ -n "$rate" ] && args+=(--rate "$rate")
  "$bin" "${args[@]}" "$@" >"$DELAY_PATH_LOG/out" 2>"$DELAY_PATH_LOG/err" &
  DELAY_PATH_PID=$!
  local _
  for _ in $(seq 400); do
    grep -qx ready "$DELAY_PATH_LOG/out" && return 0
    kill -0 "$DELAY_PATH_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "delay_path_up: delay-line did not get ready: $(cat "$DELAY_PATH_LOG/err")" >&2
  return 1
}

delay_path_tcp_buffers() {
  local max=${1:?delay_path_tcp_buffers BYTES} ns
  for ns in "$DELAY_PATH_NS_A" "$DELAY_PATH_NS_B"; do
    ip netns exec "$ns" sysctl -qw "net.ipv4.tcp_rmem=4096 131072 $max" \
      "net.ipv4.tcp_wmem=4096 16384 $max" || return 1
  done
}

delay_path_down() {
  if [ -n "$DELAY_PATH_PID" ]; then
    kill -TERM "$DELAY_PATH_PID" 2>/dev/null || true
    wait "$DELAY_PATH_PID" 2>/dev/null || true
    cat "$DELAY_PATH_LOG/err" >&2 2>/dev/null || true
  fi
  # `|| true`: under set -e a failing last command of an && list ends the script.
  if [ -n "$DELAY_PATH_NS_A" ]; then ip netns del "$DELAY_PATH_NS_A" 2>/dev/null || true; fi
  if [ -n "$DELAY_PATH_NS_B" ]; then ip netns del "$DELAY_PATH_NS_B" 2>/dev/null || true; fi
  if [ -n "$DELAY_PATH_LOG" ]; then rm -rf "$DELAY_PATH_LOG"; fi
  DELAY_PATH_NS_A='' DELAY_PATH_NS_B='' DELAY_PATH_PID='' DELAY_PATH_LOG=''
  return 0
}

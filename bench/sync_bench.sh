#!/usr/bin/env bash
# ferry sync against rsync, side by side on this machine, over loopback.
#   bash bench/sync_bench.sh [--quick] [--only CASE]...
# Cases (each a function case_NAME):
#   unchanged  20,000 files (gen-tree, 300 MB), the target already identical:
#              the time to decide there is nothing to do
#   changed    the same tree with 1% of its files (200) changed: 64 bytes
#              overwritten in each
#   bigdelta   a 1 GiB file (1 GiB / 512 MiB with --quick: BIG_SIZE), the
#              target holding the old version: 1 MiB changed in the middle and
#              100 bytes inserted near the start
#   slowlink   a 1 GiB compressible text file (log lines; 256 MiB with --quick)
#              into an empty target over a 200 mbit link: two network
#              namespaces joined by a veth pair with tbf on both ends
#              (10.205.0.0/30), every tool with -z (rsync and ferry: zstd),
#              and ferry once more without -z: its default, compressing only
#              while the network is the limit
# Tools, each making the target identical with deletion on:
#   rsync over ssh   rsync -a --delete -e ssh SRC/ root@127.0.0.1:DST/
#   rsync daemon     rsync -a --delete SRC/ rsync://127.0.0.1:PORT/w/DST/
#   ferry over ssh   ferry sync --delete -e ssh SRC/ root@127.0.0.1:DST (TLS)
#   ferry server     ferry sync --delete SRC/ ferry://127.0.0.1:PORT/DST (TLS)
# sshd, the rsync daemon and the ferry server are this script's own, on
# 127.0.0.1, and are stopped at the end.
# Measures: wall seconds of each run (min / median / max over alternating
# rounds: bench/lib/measure.sh) and bytes on the wire: the growth of the
# loopback interface's received bytes during the run (every byte of every
# packet, headers included, both directions; the machine is otherwise quiet).
# Before every run the target is reset to the old state (not timed).
# Environment: BENCH_NO_BUILD=1 skips building; FERRY, GEN name the binaries.
set -eEuo pipefail
cd "$(dirname "$0")/.."
source bench/lib/measure.sh
trap 'echo "sync_bench: line $LINENO: \`$BASH_COMMAND\` failed" >&2' ERR

CASES=(unchanged changed bigdelta slowlink)
REPS=5
BIG_SIZE=1G
TEXT_MB=1024
ONLY=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) REPS=3 BIG_SIZE=512M TEXT_MB=256 ;;
    --only) ONLY+=("${2:?--only needs a case name}"); shift ;;
    --only=*) ONLY+=("${1#--only=}") ;;
    -h|--help) sed -n '2,/^set -/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "sync_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
SSH_PORT=2223 RSYNCD_PORT=8873 FERRY_PORT=7179
export FERRY_TOKEN=sync-bench-$$

if [ -z "${BENCH_NO_BUILD:-}" ]; then bash scripts/build.sh >/dev/null; fi
FERRY=$(realpath "${FERRY:-build/bin/ferry}")
GEN=$(realpath "${GEN:-build/bin/gen-tree}")

W=
cleanup() {
  local rc=$?
  set +eE
  trap - ERR
  m_stop_all
  ip netns del sb-a 2>/dev/null
  ip netns del sb-b 2>/dev/null
  [ -n "$W" ] && rm -rf "$W"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
W=$(mktemp -d "${BENCH_TMP:-/dev/shm}/sync-bench.XXXXXX")
mkdir -p "$W/dst"

# --- the peers -----------------------------------------------------------------
SSHD_PID='' SSH=''
# On the slow link the clients run in sb-a (CLI) and the peers in sb-b (SRV)
# at $HOST; elsewhere both here, on loopback.
SRV=() CLI=() HOST=127.0.0.1 ZFLAG=()
start_sshd() {
  [ -f "$W/key" ] || ssh-keygen -q -t ed25519 -N '' -f "$W/key"
  [ -f "$W/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"
  cp "$W/key.pub" "$W/authorized_keys"
  mkdir -p /run/sshd
  cat >"$W/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress $HOST
HostKey $W/hostkey
AuthorizedKeysFile $W/authorized_keys
PermitRootLogin yes
StrictModes no
UsePAM no
PidFile none
CFG
  "${SRV[@]}" /usr/sbin/sshd -D -f "$W/sshd_config" -E "$W/sshd.log" &
  SSHD_PID=$!; m_track $SSHD_PID
  m_wait_port $SSH_PORT $SSHD_PID "${SRV[@]}" || { echo "sync_bench: sshd did not start: $(m_err "$W/sshd.log")" >&2; return 1; }
  SSH="ssh -i $W/key -p $SSH_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
}
start_rsyncd() {
  cat >"$W/rsyncd.conf" <<CFG
use chroot = no
[w]
  path = $W/dst
  read only = no
  uid = root
  gid = root
CFG
  "${SRV[@]}" rsync --daemon --no-detach --address=$HOST --port=$RSYNCD_PORT --config="$W/rsyncd.conf" \
    --log-file="$W/rsyncd.log" &
  local p=$!; m_track $p
  m_wait_port $RSYNCD_PORT $p "${SRV[@]}" || { echo "sync_bench: rsync daemon did not start: $(m_err "$W/rsyncd.log")" >&2; return 1; }
}
start_ferry() {
  "${SRV[@]}" "$FERRY" serve "$W/dst" --listen "$HOST:$FERRY_PORT" >"$W/ferry.log" 2>&1 &
  local p=$!; m_track $p
  m_wait_port $FERRY_PORT $p "${SRV[@]}" || { echo "sync_bench: ferry serve did not start: $(m_err "$W/ferry.log")" >&2; return 1; }
}
start_peers() { start_sshd && start_rsyncd && start_ferry; }
start_peers

# --- one run ---------------------------------------------------------------------
# Bytes through the path: loopback's received bytes, or on the slow link both
# directions of the client's veth end.
WIRE=lo_bytes
lo_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }
veth_bytes() { ip netns exec sb-a awk '$1 == "sb-va:" { printf "%.0f\n", $2 + $10 }' /proc/net/dev; }
# run CMD...: times CMD, records its wire bytes, checks the target against SRC.
SRC_DIR='' OLD_DIR=''
run() {
  local t0 w0 out
  w0=$($WIRE)
  t0=$EPOCHREALTIME
  if ! out=$("$@" 2>&1); then M_ERR=$(printf %s "$out" | head -n 3 | tr '\n' ' '); return 1; fi
  M_SEC=$(m_since "$t0")
  M_S["$M_TOOL|wire"]+="$(($($WIRE) - w0)) "
  if ! out=$(diff -r "$SRC_DIR" "$W/dst/t" 2>&1); then M_ERR="target differs: ${out:0:200}"; return 1; fi
}
prepare() {  # the old state, as every tool finds it
  rm -rf "$W/dst/t" && cp -a "$OLD_DIR" "$W/dst/t" && sync
}
t_rsync_ssh() { run "${CLI[@]}" rsync -a --delete "${ZFLAG[@]}" -e "$SSH" "$SRC_DIR/" "root@$HOST:$W/dst/t/"; }
t_rsync_daemon() { run "${CLI[@]}" rsync -a --delete "${ZFLAG[@]}" "$SRC_DIR/" "rsync://$HOST:$RSYNCD_PORT/w/t/"; }
t_ferry_ssh() { run "${CLI[@]}" "$FERRY" sync -q --delete "${ZFLAG[@]}" -e "$SSH" --remote-ferry "$FERRY" "$SRC_DIR/" "root@$HOST:$W/dst/t"; }
t_ferry_server() { run "${CLI[@]}" "$FERRY" sync -q --delete "${ZFLAG[@]}" "$SRC_DIR/" "ferry://$HOST:$FERRY_PORT/t"; }
# ferry's default: compression only while the network is the limit (no -z).
t_ferry_auto() { run "${CLI[@]}" "$FERRY" sync -q --delete "$SRC_DIR/" "ferry://$HOST:$FERRY_PORT/t"; }
TOOLS=(t_rsync_ssh t_rsync_daemon t_ferry_ssh t_ferry_server)
labels() {
  M_LABEL=([t_rsync_ssh]="rsync -a over ssh" [t_rsync_daemon]="rsync -a to rsync://"
    [t_ferry_ssh]="ferry sync over ssh" [t_ferry_server]="ferry sync to ferry://"
    [t_ferry_auto]="ferry sync, no -z (auto)")
}

report() {  # CASE TITLE
  local t
  printf '  %-26s %-27s %s\n' tool "seconds min / med / max" "wire bytes min / med / max"
  for t in "${TOOLS[@]}"; do
    printf '  %-26s %-27s %s\n' "${M_LABEL[$t]}" "$(m_fmt3 %.3f ${M_S["$t|sec"]:-})" \
      "$(m_fmt3 %.0f ${M_S["$t|wire"]:-})"
  done
  echo "  Ratios of medians (round by round in brackets); the bar is wall <= 0.50x and wire <= 1.10x:"
  m_ratio "wall: ferry over ssh / rsync over ssh" "t_ferry_ssh|sec" "t_rsync_ssh|sec"
  m_ratio "wall: ferry server / rsync daemon" "t_ferry_server|sec" "t_rsync_daemon|sec"
  m_ratio "wire: ferry over ssh / rsync over ssh" "t_ferry_ssh|wire" "t_rsync_ssh|wire"
  m_ratio "wire: ferry server / rsync daemon" "t_ferry_server|wire" "t_rsync_daemon|wire"
  if [[ " ${TOOLS[*]} " == *" t_ferry_auto "* ]]; then
    m_ratio "wall: ferry server, auto / rsync daemon -z" "t_ferry_auto|sec" "t_rsync_daemon|sec"
    m_ratio "wire: ferry server, auto / rsync daemon -z" "t_ferry_auto|wire" "t_rsync_daemon|wire"
  fi
}

need_tree() {
  [ -d "$W/tree" ] && return 0
  "$GEN" tree "$W/tree" 20000 300M >/dev/null
}

case_unchanged() {
  M_CASE=unchanged; m_reset; labels
  need_tree
  SRC_DIR=$W/tree OLD_DIR=$W/tree
  echo "== unchanged: $(find "$SRC_DIR" -type f | wc -l) files, the target identical; $REPS alternating rounds"
  m_rounds "$REPS" prepare "${TOOLS[@]}"
  report
}

case_changed() {
  M_CASE=changed; m_reset; labels
  need_tree
  if [ ! -d "$W/tree-changed" ]; then
    cp -a "$W/tree" "$W/tree-changed"
    # Every 100th file: 64 bytes overwritten in its middle, its mtime moved on.
    find "$W/tree-changed" -type f | sort | awk 'NR % 100 == 0' | while read -r f; do
      size=$(stat -c %s "$f")
      head -c 64 /dev/urandom | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
      touch -d '+1 hour' "$f"
    done
  fi
  SRC_DIR=$W/tree-changed OLD_DIR=$W/tree
  echo "== changed: 1% of $(find "$SRC_DIR" -type f | wc -l) files changed (64 bytes each); $REPS alternating rounds"
  m_rounds "$REPS" prepare "${TOOLS[@]}"
  report
}

case_bigdelta() {
  M_CASE=bigdelta; m_reset; labels
  if [ ! -d "$W/big-new" ]; then
    mkdir -p "$W/big-old" "$W/big-new"
    "$GEN" file "$W/big-old/f" "$BIG_SIZE" >/dev/null
    local size; size=$(stat -c %s "$W/big-old/f")
    {
      head -c 4096 "$W/big-old/f"
      head -c 100 /dev/urandom
      tail -c +4097 "$W/big-old/f"
    } >"$W/big-new/f"
    head -c 1048576 /dev/urandom | dd of="$W/big-new/f" bs=1M seek=$((size / 2 / 1048576)) conv=notrunc status=none
    touch -d '+1 hour' "$W/big-new/f"
  fi
  SRC_DIR=$W/big-new OLD_DIR=$W/big-old
  echo "== bigdelta: a $(numfmt --to=iec "$(stat -c %s "$W/big-new/f")") file, 1 MiB changed in the middle and 100 bytes inserted near the start; $REPS alternating rounds"
  m_rounds "$REPS" prepare "${TOOLS[@]}"
  report
}

case_slowlink() {
  M_CASE=slowlink; m_reset; labels
  if [ ! -d "$W/text" ]; then
    mkdir -p "$W/text"
    # Log lines: timestamps, hosts, paths and numbers; zstd -1 takes them to
    # about a fifth.
    awk -v mb="$TEXT_MB" 'BEGIN { srand(7); limit = mb * 1048576; n = 0
      while (n < limit) {
        line = sprintf("%d 2026-12-07T%02d:%02d:%02d.%03dZ host%02d GET /api/v%d/items/%d?page=%d status=%d bytes=%d ms=%.1f\n",
          n, int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000), int(rand() * 40),
          1 + int(rand() * 3), int(rand() * 100000), int(rand() * 50), 200 + 100 * int(rand() * 4),
          int(rand() * 90000), rand() * 300)
        printf "%s", line; n += length(line) } }' >"$W/text/log.txt"
    touch -d '2026-01-01' "$W/text/log.txt"
  fi
  mkdir -p "$W/empty"
  # The link: two namespaces, a veth pair, tbf 200 mbit on both ends.
  ip netns add sb-a && ip netns add sb-b
  ip link add sb-va netns sb-a type veth peer name sb-vb netns sb-b
  ip -n sb-a addr add 10.205.0.1/30 dev sb-va && ip -n sb-b addr add 10.205.0.2/30 dev sb-vb
  ip -n sb-a link set sb-va up && ip -n sb-b link set sb-vb up
  ip -n sb-a link set lo up && ip -n sb-b link set lo up
  ip netns exec sb-a tc qdisc add dev sb-va root tbf rate 200mbit burst 256kb latency 50ms
  ip netns exec sb-b tc qdisc add dev sb-vb root tbf rate 200mbit burst 256kb latency 50ms
  local saved_host=$HOST
  HOST=10.205.0.2 SRV=(ip netns exec sb-b)
  start_peers
  CLI=(ip netns exec sb-a) ZFLAG=(-z) WIRE=veth_bytes
  SRC_DIR=$W/text OLD_DIR=$W/empty
  echo "== slowlink: $(numfmt --to=iec "$(stat -c %s "$W/text/log.txt")") of log text into an empty target over 200 mbit (tbf), every tool with -z, and ferry without it (compressing by itself); $REPS alternating rounds"
  local saved_tools=("${TOOLS[@]}")
  TOOLS+=(t_ferry_auto)
  m_rounds "$REPS" prepare "${TOOLS[@]}"
  report
  TOOLS=("${saved_tools[@]}")
  CLI=() ZFLAG=() WIRE=lo_bytes HOST=$saved_host SRV=()
}

echo "sync_bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r), rsync $(rsync --version | awk 'NR == 1 { print $3 }'), in $W"
for c in "${CASES[@]}"; do
  if [ ${#ONLY[@]} -gt 0 ] && [[ ! " ${ONLY[*]} " == *" $c "* ]]; then continue; fi
  "case_$c"
done
if [ ${#M_FAILURES[@]} -gt 0 ]; then
  echo "sync_bench: ${#M_FAILURES[@]} run(s) failed:"
  printf '  %s\n' "${M_FAILURES[@]}"
  exit 1
fi

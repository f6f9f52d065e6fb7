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

CASES=(unchanged changed bigdelta)
REPS=5
BIG_SIZE=1G
ONLY=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) REPS=3 BIG_SIZE=512M ;;
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
start_sshd() {
  ssh-keygen -q -t ed25519 -N '' -f "$W/key"
  ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"
  cp "$W/key.pub" "$W/authorized_keys"
  mkdir -p /run/sshd
  cat >"$W/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $W/hostkey
AuthorizedKeysFile $W/authorized_keys
PermitRootLogin yes
StrictModes no
UsePAM no
PidFile none
CFG
  /usr/sbin/sshd -D -f "$W/sshd_config" -E "$W/sshd.log" &
  SSHD_PID=$!; m_track $SSHD_PID
  m_wait_port $SSH_PORT $SSHD_PID || { echo "sync_bench: sshd did not start: $(m_err "$W/sshd.log")" >&2; return 1; }
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
  rsync --daemon --no-detach --address=127.0.0.1 --port=$RSYNCD_PORT --config="$W/rsyncd.conf" \
    --log-file="$W/rsyncd.log" &
  local p=$!; m_track $p
  m_wait_port $RSYNCD_PORT $p || { echo "sync_bench: rsync daemon did not start: $(m_err "$W/rsyncd.log")" >&2; return 1; }
}
start_ferry() {
  "$FERRY" serve "$W/dst" --listen "127.0.0.1:$FERRY_PORT" >"$W/ferry.log" 2>&1 &
  local p=$!; m_track $p
  m_wait_port $FERRY_PORT $p || { echo "sync_bench: ferry serve did not start: $(m_err "$W/ferry.log")" >&2; return 1; }
}
start_sshd
start_rsyncd
start_ferry

# --- one run ---------------------------------------------------------------------
lo_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }
# run CMD...: times CMD, records its wire bytes, checks the target against SRC.
SRC_DIR='' OLD_DIR=''
run() {
  local t0 w0 out
  w0=$(lo_bytes)
  t0=$EPOCHREALTIME
  if ! out=$("$@" 2>&1); then M_ERR=$(printf %s "$out" | head -n 3 | tr '\n' ' '); return 1; fi
  M_SEC=$(m_since "$t0")
  M_S["$M_TOOL|wire"]+="$(($(lo_bytes) - w0)) "
  if ! out=$(diff -r "$SRC_DIR" "$W/dst/t" 2>&1); then M_ERR="target differs: ${out:0:200}"; return 1; fi
}
prepare() {  # the old state, as every tool finds it
  rm -rf "$W/dst/t" && cp -a "$OLD_DIR" "$W/dst/t" && sync
}
t_rsync_ssh() { run rsync -a --delete -e "$SSH" "$SRC_DIR/" "root@127.0.0.1:$W/dst/t/"; }
t_rsync_daemon() { run rsync -a --delete "$SRC_DIR/" "rsync://127.0.0.1:$RSYNCD_PORT/w/t/"; }
t_ferry_ssh() { run "$FERRY" sync -q --delete -e "$SSH" --remote-ferry "$FERRY" "$SRC_DIR/" "root@127.0.0.1:$W/dst/t"; }
t_ferry_server() { run "$FERRY" sync -q --delete "$SRC_DIR/" "ferry://127.0.0.1:$FERRY_PORT/t"; }
TOOLS=(t_rsync_ssh t_rsync_daemon t_ferry_ssh t_ferry_server)
labels() {
  M_LABEL=([t_rsync_ssh]="rsync -a over ssh" [t_rsync_daemon]="rsync -a to rsync://"
    [t_ferry_ssh]="ferry sync over ssh" [t_ferry_server]="ferry sync to ferry://")
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

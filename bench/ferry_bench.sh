#!/usr/bin/env bash
# Runs ferry and its anchors side by side on this machine and prints ratios.
#   bash bench/ferry_bench.sh [--quick] [--only CASE]...
# Cases (CASES below; each is one function, case_NAME, run when selected):
#   loopback  a random file (2 GiB; 1 GiB with --quick) over 127.0.0.1: ferry
#             plaintext, ferry TLS, a ferry download to /dev/null, nc file to
#             file, nc to /dev/null, iperf3 memory to memory, and a local cp
#   veth      the same file between two network namespaces joined by a veth
#             pair (MTU 1500, 10.201.0.0/30): ferry plaintext and TLS, a ferry
#             download to /dev/null, nc, iperf3
#   tree      20,000 files (300 MB) over loopback: tar | nc, rsync -a over ssh,
#             ferry cp -r; scp -r once
#   crypto    the file over loopback: ferry TLS against ferry plaintext, ferry
#             over ssh, scp, rsync over ssh and rclone over sftp
#   sampling  ferry with diagnosis sampling every 200 ms against sampling off
#   delay     a 512 MiB file (DELAY_SIZE) over a 100 ms / 1 Gbit path made by
#             tools/delay_line: ferry -P 1, 2, 4 and auto against iperf3 -P 1,
#             2, 4, and iperf3 with cubic against the default (bbr here)
# The method, because this VM pays a large cost the first time memory is
# touched (bench/lib/measure.sh): the tools of a case alternate, round by round
# (5 rounds; 3 with --quick); before every run of every tool the destination is
# emptied and a file of the transfer's size is written into its filesystem and
# deleted; every measure is printed as min / median / max; each side's CPU
# seconds per GB; ratios of medians and round by round.
# Sources and destinations are in tmpfs (/dev/shm, or BENCH_TMP).
# Environment: BENCH_NO_BUILD=1 skips installing and building; FERRY and GEN
# name the binaries (default build/bin/ferry, build/bin/gen-tree);
# BENCH_RUN_TIMEOUT bounds each run (seconds, default 600).
set -eEuo pipefail
cd "$(dirname "$0")/.."
source bench/lib/measure.sh
trap 'echo "ferry_bench: line $LINENO: \`$BASH_COMMAND\` failed" >&2' ERR

CASES=(loopback veth delay tree crypto sampling)
REPS=5
FILE_SIZE=2G
ONLY=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) REPS=3 FILE_SIZE=1G ;;
    --only) ONLY+=("${2:?--only needs a case name}"); shift ;;
    --only=*) ONLY+=("${1#--only=}") ;;
    -h|--help) sed -n '2,/^set -/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "ferry_bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-600}
TO=(timeout "$RUN_TIMEOUT")  # every one-shot tool runs under it, so no run hangs the bench
# Ports on 127.0.0.1 (the veth case uses the same ones inside its namespaces).
TLS_PORT=7177 PLAIN_PORT=7178 IPERF_PORT=5399 NC_PORT=5301 SSH_PORT=2222
export FERRY_TOKEN=bench-$$

W=
NETNS_MADE=()
cleanup() {
  local rc=$?
  set +eE
  trap - ERR
  m_stop_all
  local ns
  for ns in "${NETNS_MADE[@]}"; do ip netns del "$ns" 2>/dev/null; done
  declare -F delay_path_down >/dev/null && delay_path_down
  [ -n "$W" ] && rm -rf "$W"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the path the tools run over ---------------------------------------------
# HOST is the receiver's address; CLI and SRV prefix client and server
# commands (empty on loopback, `ip netns exec NS` for veth). PLAIN_PID and
# TLS_PID are the path's long-running ferry servers, serving $W: uploads go to
# ferry://HOST:PORT/dst/, downloads read ferry://HOST:PORT/src/.
HOST=127.0.0.1 CLI=() SRV=() PLAIN_PID='' TLS_PID='' LO_PLAIN_PID='' LO_TLS_PID=''
FERRY_OPTS=() IPERF_OPTS=()  # extra options, for cases that vary them (delay: -P)
declare -A SERVER_LOG=()
use_loopback() { HOST=127.0.0.1 CLI=() SRV=() PLAIN_PID=$LO_PLAIN_PID TLS_PID=$LO_TLS_PID; }

# start_ferry VAR PORT [OPTION...]: a ferry server on the current path; its pid into VAR.
start_ferry() {
  local var=$1 port=$2 p log; shift 2
  log="$W/serve-$HOST-$port.log"
  "${SRV[@]}" "$FERRY" serve "$@" "$W" --listen "$HOST:$port" >"$log" 2>&1 &
  p=$!; m_track $p
  SERVER_LOG[$p]=$log
  if ! m_wait_port "$port" $p "${SRV[@]}"; then
    echo "ferry_bench: ferry serve on $HOST:$port did not start: $(m_err "$log")" >&2
    return 1
  fi
  # Its CPU is read from /proc/PID/stat: PID must be ferry itself (ip netns exec execs it).
  if [ "$(cat /proc/$p/comm)" != ferry ]; then
    echo "ferry_bench: pid $p is $(cat /proc/$p/comm), not ferry" >&2
    return 1
  fi
  printf -v "$var" %s "$p"
}

# --- inputs and fixtures, made when a case first needs them ------------------
SRC='' BYTES='' TREE_FILES='' TREE_BYTES=''
need_file() {
  SRC=$W/src/big
  [ -f "$SRC" ] || "$GEN" file "$SRC" "$FILE_SIZE"
  BYTES=$(stat -c %s "$SRC")
}
need_tree() {
  [ -d "$W/src/tree" ] || "$GEN" tree "$W/src/tree" 20000 300M
  TREE_FILES=$(find "$W/src/tree" -type f | wc -l)
  TREE_BYTES=$(find "$W/src/tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
}
need_local_servers() {
  [ -n "$LO_TLS_PID" ] && return 0
  use_loopback
  start_ferry LO_TLS_PID $TLS_PORT
  start_ferry LO_PLAIN_PID $PLAIN_PORT --plaintext
  use_loopback
}
SSHD_PID='' SSH='' SCP=''
need_ssh() {  # sshd on 127.0.0.1:$SSH_PORT with a throwaway key, for scp, rsync, rclone
  [ -n "$SSHD_PID" ] && return 0
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
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
  # -D: in the foreground, our child, so that its reaped children's CPU
  # (everything the far side of a transfer ran) shows in its /proc/PID/stat.
  /usr/sbin/sshd -D -f "$W/sshd_config" -E "$W/sshd.log" &
  SSHD_PID=$!; m_track $SSHD_PID
  m_wait_port $SSH_PORT $SSHD_PID || { echo "ferry_bench: sshd did not start: $(m_err "$W/sshd.log")" >&2; return 1; }
  local o="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  SSH="ssh -i $W/key -p $SSH_PORT $o"
  SCP="scp -i $W/key -P $SSH_PORT $o"
}

# --- before every run of every tool --------------------------------------------
PREP_SRC='' PREP_BYTES=''
prepare() {  # TOOL (the same for all): empty the destination, flush, cache the source, prefault
  find "$W/dst" -mindepth 1 -delete || { M_ERR="cannot empty $W/dst"; return 1; }
  sync
  if [ "$W_FS" != tmpfs ]; then  # tmpfs is always "cached"
    if [ -d "$PREP_SRC" ]; then tar -c -C "$PREP_SRC" . >/dev/null; else cat "$PREP_SRC" >/dev/null; fi
  fi
  m_prefault "$W/dst" "$PREP_BYTES" || { M_ERR="cannot write $PREP_BYTES bytes into $W/dst"; return 1; }
}

# --- checks after a run ------------------------------------------------------------
check_size() {  # FILE: holds all of the source
  local n
  n=$(stat -c %s "$1" 2>/dev/null) || { M_ERR="no $1 after the run"; return 1; }
  [ "$n" = "$BYTES" ] || { M_ERR="$1 has $n bytes, not $BYTES"; return 1; }
}
check_tree() {  # DIR: holds every file of the source tree, every byte
  local n b
  n=$(find "$1" -type f 2>/dev/null | wc -l)
  b=$(find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  [ "$n" = "$TREE_FILES" ] && [ "$b" = "$TREE_BYTES" ] ||
    { M_ERR="$1 has $n files and $b bytes, not $TREE_FILES and $TREE_BYTES"; return 1; }
}

# --- how a tool is run and timed -------------------------------------------------
status() {  # RC: what an exit status under `timeout` means
  case $1 in
    124) echo "timed out after $RUN_TIMEOUT s (BENCH_RUN_TIMEOUT)" ;;
    12[5-7]) echo "exit $1 (could not run)" ;;
    *) if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128))"; else echo "exit $1"; fi ;;
  esac
}
# ferry_run SIDE CMD...: a ferry client against the server whose pid is in
# $SERVER, timed; SIDE is the client's side (snd: an upload; rcv: a download).
# The client's CPU from /usr/bin/time, the server's from /proc/PID/stat.
SERVER=
ferry_run() {
  local side=$1 rc=0 t0 c0 c1 cli; shift
  c0=$(m_proc_cpu "$SERVER" 2>/dev/null) ||
    { M_ERR="its ferry server (pid $SERVER) is gone: $(m_err "${SERVER_LOG[$SERVER]:-}")"; return 1; }
  t0=$EPOCHREALTIME
  m_timed "$W/time.cli" "${CLI[@]}" "${TO[@]}" "$@" >/dev/null 2>"$W/err.cli" || rc=$?
  M_SEC=$(m_since "$t0")
  c1=$(m_proc_cpu "$SERVER" 2>/dev/null) ||
    { M_ERR="its ferry server (pid $SERVER) died: $(m_err "${SERVER_LOG[$SERVER]:-}")"; return 1; }
  [ $rc = 0 ] || { M_ERR="$(status $rc): $(m_err "$W/err.cli")"; return 1; }
  cli=$(m_time_cpu "$W/time.cli") || { M_ERR="no CPU times from /usr/bin/time"; return 1; }
  if [ "$side" = snd ]; then M_SND=$cli M_RCV=$(m_calc "$c1 - $c0"); else M_SND=$(m_calc "$c1 - $c0") M_RCV=$cli; fi
}

# listen_run LISTENER SENDER: a one-shot receiver (LISTENER, a command string
# run by bash on the server side, listening on $LISTEN_PORT) and a one-shot
# sender (SENDER, run on the client side); timed from the sender's start to
# the end of both, each under /usr/bin/time.
LISTEN_PORT=
listen_run() {
  local listener=$1 sender=$2 l rc=0 rl=0 t0
  /usr/bin/time -o "$W/time.srv" -f '%U %S' "${SRV[@]}" "${TO[@]}" \
    bash -o pipefail -c "$listener" </dev/null 2>"$W/err.srv" &
  l=$!; m_track $l
  if ! m_wait_port "$LISTEN_PORT" $l "${SRV[@]}"; then
    m_stop $l; M_ERR="the receiver did not listen: $(m_err "$W/err.srv")"; return 1
  fi
  t0=$EPOCHREALTIME
  m_timed "$W/time.cli" "${CLI[@]}" "${TO[@]}" bash -o pipefail -c "$sender" </dev/null 2>"$W/err.cli" || rc=$?
  [ $rc = 0 ] || m_kill_tree $l  # nothing more will come: don't wait for the timeout
  wait $l || rl=$?
  M_SEC=$(m_since "$t0")
  m_untrack $l
  [ $rc = 0 ] || { M_ERR="sender: $(status $rc): $(m_err "$W/err.cli")"; return 1; }
  [ $rl = 0 ] || { M_ERR="receiver: $(status $rl): $(m_err "$W/err.srv")"; return 1; }
  M_SND=$(m_time_cpu "$W/time.cli") && M_RCV=$(m_time_cpu "$W/time.srv") ||
    { M_ERR="no CPU times from /usr/bin/time"; return 1; }
}

# over_ssh SIDE CMD...: a one-shot client through our sshd, timed. Its CPU
# (ssh included) from /usr/bin/time; the far side's (sshd and all it ran for
# this connection) from the growth of our sshd's reaped children's CPU, read
# once it has no child left.
over_ssh() {
  local side=$1 rc=0 t0 c0 c1 cli far=; shift
  c0=$(m_proc_child_cpu "$SSHD_PID") || { M_ERR="sshd (pid $SSHD_PID) is gone: $(m_err "$W/sshd.log")"; return 1; }
  t0=$EPOCHREALTIME
  m_timed "$W/time.cli" "${TO[@]}" "$@" >/dev/null 2>"$W/err.cli" || rc=$?
  M_SEC=$(m_since "$t0")
  [ $rc = 0 ] || { M_ERR="$(status $rc): $(m_err "$W/err.cli")"; return 1; }
  cli=$(m_time_cpu "$W/time.cli") || { M_ERR="no CPU times from /usr/bin/time"; return 1; }
  if m_wait_no_children "$SSHD_PID" 5 && c1=$(m_proc_child_cpu "$SSHD_PID"); then
    far=$(m_calc "$c1 - $c0")
  else
    echo "  (note: sshd's side of this run was not over after 5 s; its CPU is not counted)"
  fi
  if [ "$side" = snd ]; then M_SND=$cli M_RCV=$far; else M_SND=$far M_RCV=$cli; fi
}

# local_run SIDE CMD...: a local one-shot command, timed; its CPU counted as SIDE's.
local_run() {
  local side=$1 rc=0 t0; shift
  t0=$EPOCHREALTIME
  m_timed "$W/time.cli" "${TO[@]}" "$@" >/dev/null 2>"$W/err.cli" || rc=$?
  M_SEC=$(m_since "$t0")
  [ $rc = 0 ] || { M_ERR="$(status $rc): $(m_err "$W/err.cli")"; return 1; }
  if [ "$side" = snd ]; then M_SND=$(m_time_cpu "$W/time.cli"); else M_RCV=$(m_time_cpu "$W/time.cli"); fi
}

# --- the tools (each one run; see bench/lib/measure.sh for the contract) ----------
t_ferry_plain() {
  SERVER=$PLAIN_PID ferry_run snd "$FERRY" cp -q --plaintext "${FERRY_OPTS[@]}" "$SRC" "ferry://$HOST:$PLAIN_PORT/dst/" &&
    check_size "$W/dst/big"
}
t_ferry_tls() {
  SERVER=$TLS_PID ferry_run snd "$FERRY" cp -q "${FERRY_OPTS[@]}" "$SRC" "ferry://$HOST:$TLS_PORT/dst/" &&
    check_size "$W/dst/big"
}
t_ferry_unsampled() { local FERRY_OPTS=(--interval 60000); t_ferry_tls; }
t_ferry_null() {  # a download to standard output, which is /dev/null: the server sends
  SERVER=$PLAIN_PID ferry_run rcv "$FERRY" cp -q --plaintext "${FERRY_OPTS[@]}" "ferry://$HOST:$PLAIN_PORT/src/big" -
}
t_nc() {
  LISTEN_PORT=$NC_PORT listen_run "nc -d -l $HOST $NC_PORT >$W/dst/big" "nc -N $HOST $NC_PORT <$SRC" &&
    check_size "$W/dst/big"
}
t_nc_null() { LISTEN_PORT=$NC_PORT listen_run "nc -d -l $HOST $NC_PORT >/dev/null" "nc -N $HOST $NC_PORT <$SRC"; }
t_iperf3() {  # memory to memory, -n BYTES; iperf3 -s -1 is the receiver
  local got
  LISTEN_PORT=$IPERF_PORT listen_run "iperf3 -s -1 -B $HOST -p $IPERF_PORT >$W/iperf-s.out" \
    "iperf3 -c $HOST -p $IPERF_PORT -n $BYTES ${IPERF_OPTS[*]} -J >$W/iperf.json" ||
    { M_ERR+=" $(grep -h '"error"' "$W/iperf.json" "$W/iperf-s.out" 2>/dev/null | head -2 | tr -s ' \n' ' ')"; return 1; }
  # iperf3 stops counting at the end of the test, so the receiver's count can
  # be short by what was in flight: check what the client sent.
  got=$(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]
print(int(e["sum_sent"]["bytes"]), e["sum_received"]["bits_per_second"] / 8e9)' "$W/iperf.json") ||
    { M_ERR="cannot read iperf3's JSON"; return 1; }
  set -- $got
  [ "$1" -ge "$BYTES" ] || { M_ERR="iperf3 sent $1 bytes, not $BYTES"; return 1; }
  M_S["$M_TOOL|own"]+="$2 "  # iperf3's own receiver rate, without its start-up
}
t_cp() { local_run rcv cp "$SRC" "$W/dst/big" && check_size "$W/dst/big"; }
# tree
t_tar_nc() {
  mkdir -p "$W/dst/tree"
  LISTEN_PORT=$NC_PORT listen_run "nc -d -l 127.0.0.1 $NC_PORT | tar -x -C $W/dst/tree" \
    "tar -c -C $W/src/tree . | nc -N 127.0.0.1 $NC_PORT" && check_tree "$W/dst/tree"
}
t_rsync_tree() { over_ssh snd rsync -a -e "$SSH" "$W/src/tree" root@127.0.0.1:"$W/dst/" && check_tree "$W/dst/tree"; }
t_scp_tree() { over_ssh snd $SCP -r "$W/src/tree" root@127.0.0.1:"$W/dst/" && check_tree "$W/dst/tree"; }
t_ferry_tree() {
  SERVER=$TLS_PID ferry_run snd "$FERRY" cp -q -r "${FERRY_OPTS[@]}" "$W/src/tree" "ferry://$HOST:$TLS_PORT/dst/" &&
    check_tree "$W/dst/tree"
}
# crypto
t_ferry_ssh() {
  over_ssh snd "$FERRY" cp -q -e "$SSH" --remote-ferry "$FERRY" "$SRC" root@127.0.0.1:"$W/dst/" && check_size "$W/dst/big"
}
t_scp() { over_ssh snd $SCP "$SRC" root@127.0.0.1:"$W/dst/" && check_size "$W/dst/big"; }
t_rsync() { over_ssh snd rsync -a -e "$SSH" "$SRC" root@127.0.0.1:"$W/dst/" && check_size "$W/dst/big"; }
t_rclone() {
  over_ssh snd rclone copyto --config /dev/null "$SRC" \
    ":sftp,host=127.0.0.1,port=$SSH_PORT,user=root,key_file=$W/key:$W/dst/big" && check_size "$W/dst/big"
}

cpu_note() {  # [EXTRA LINE]
  echo "  CPU s/GB is user + system: ferry serve's from /proc/PID/stat before and after each run,"
  echo "  one-shot processes' from /usr/bin/time, with all they ran."
  [ -z "${1:-}" ] || echo "  $1"
}
ratio_note() { echo "  Ratios: speed is a ratio of times, above 1 when ferry is faster; CPU above 1 when ferry uses more."; }

# --- the cases ---------------------------------------------------------------------
case_loopback() {
  M_CASE=loopback; m_reset
  need_file; need_local_servers; use_loopback
  PREP_SRC=$SRC PREP_BYTES=$BYTES
  M_LABEL=([t_ferry_plain]="ferry plaintext" [t_ferry_tls]="ferry TLS"
    [t_ferry_null]="ferry plaintext -> /dev/null" [t_nc]="nc file -> file" [t_nc_null]="nc -> /dev/null"
    [t_iperf3]="iperf3 memory -> memory" [t_cp]="cp (local)")
  echo "== loopback: $(numfmt --to=iec "$BYTES") random file over 127.0.0.1, file to file in tmpfs, $REPS alternating rounds"
  m_rounds "$REPS" prepare t_ferry_plain t_ferry_tls t_ferry_null t_nc t_nc_null t_iperf3 t_cp
  m_header
  local t
  for t in t_ferry_plain t_ferry_tls t_ferry_null t_nc t_nc_null t_iperf3 t_cp; do m_row $t "$BYTES"; done
  cpu_note "ferry -> /dev/null: the server sends, the client receives. cp is one process: under recv."
  echo "  iperf3's own receiver rate, without its start-up: $(m_fmt3 %.2f ${M_S["t_iperf3|own"]:-}) GB/s"
  ratio_note
  m_ratio "speed: ferry plaintext / iperf3" "t_iperf3|sec" "t_ferry_plain|sec"
  m_ratio "speed: ferry plaintext / nc file -> file" "t_nc|sec" "t_ferry_plain|sec"
  m_ratio "speed: ferry plaintext / cp" "t_cp|sec" "t_ferry_plain|sec"
  m_ratio "speed: ferry TLS / iperf3" "t_iperf3|sec" "t_ferry_tls|sec"
  m_ratio "speed: ferry TLS / ferry plaintext" "t_ferry_plain|sec" "t_ferry_tls|sec"
  m_ratio "speed: ferry -> /dev/null / nc -> /dev/null" "t_nc_null|sec" "t_ferry_null|sec"
  m_ratio "speed: ferry -> /dev/null / iperf3" "t_iperf3|sec" "t_ferry_null|sec"
  m_ratio "receiver CPU: ferry plaintext (file) / iperf3" "t_ferry_plain|rcv" "t_iperf3|rcv"
  m_ratio "receiver CPU: ferry -> /dev/null / iperf3" "t_ferry_null|rcv" "t_iperf3|rcv"
  m_ratio "receiver CPU: ferry -> /dev/null / nc -> /dev/null" "t_ferry_null|rcv" "t_nc_null|rcv"
  m_ratio "sender CPU: ferry plaintext / iperf3" "t_ferry_plain|snd" "t_iperf3|snd"
}

case_veth() {
  M_CASE=veth; m_reset
  need_file
  local na=ferry-bench-a-$$ nb=ferry-bench-b-$$
  echo "== veth: $(numfmt --to=iec "$BYTES") random file between two network namespaces (veth, MTU 1500), $REPS alternating rounds"
  ip netns add "$na"; NETNS_MADE+=("$na")
  ip netns add "$nb"; NETNS_MADE+=("$nb")
  # Made inside the namespaces, so the names never meet another run's.
  ip link add fb-a netns "$na" mtu 1500 type veth peer name fb-b netns "$nb" mtu 1500
  ip -n "$na" addr add 10.201.0.1/30 dev fb-a
  ip -n "$nb" addr add 10.201.0.2/30 dev fb-b
  ip -n "$na" link set lo up; ip -n "$na" link set fb-a up
  ip -n "$nb" link set lo up; ip -n "$nb" link set fb-b up
  HOST=10.201.0.2 CLI=(ip netns exec "$na") SRV=(ip netns exec "$nb")
  start_ferry TLS_PID $TLS_PORT
  start_ferry PLAIN_PID $PLAIN_PORT --plaintext
  PREP_SRC=$SRC PREP_BYTES=$BYTES
  M_LABEL=([t_ferry_plain]="ferry plaintext" [t_ferry_tls]="ferry TLS" [t_nc]="nc file -> file"
    [t_iperf3]="iperf3 memory -> memory" [t_ferry_null]="ferry plaintext -> /dev/null")
  m_rounds "$REPS" prepare t_ferry_plain t_ferry_tls t_ferry_null t_nc t_iperf3
  m_header
  local t
  for t in t_ferry_plain t_ferry_tls t_ferry_null t_nc t_iperf3; do m_row $t "$BYTES"; done
  cpu_note
  echo "  iperf3's own receiver rate, without its start-up: $(m_fmt3 %.2f ${M_S["t_iperf3|own"]:-}) GB/s"
  ratio_note
  m_ratio "speed over veth: ferry plaintext / iperf3" "t_iperf3|sec" "t_ferry_plain|sec"
  m_ratio "speed over veth: ferry plaintext / nc" "t_nc|sec" "t_ferry_plain|sec"
  m_ratio "speed over veth: ferry -> /dev/null / iperf3" "t_iperf3|sec" "t_ferry_null|sec"
  m_ratio "receiver CPU over veth: ferry -> /dev/null / iperf3" "t_ferry_null|rcv" "t_iperf3|rcv"
  m_ratio "speed over veth: ferry TLS / iperf3" "t_iperf3|sec" "t_ferry_tls|sec"
  m_ratio "speed over veth: ferry TLS / nc" "t_nc|sec" "t_ferry_tls|sec"
  m_ratio "receiver CPU over veth: ferry plaintext / iperf3" "t_ferry_plain|rcv" "t_iperf3|rcv"
  m_ratio "sender CPU over veth: ferry plaintext / iperf3" "t_ferry_plain|snd" "t_iperf3|snd"
  m_stop "$TLS_PID"; m_stop "$PLAIN_PID"
  ip netns del "$na"; ip netns del "$nb"; NETNS_MADE=()
  use_loopback
}

case_tree() {
  M_CASE=tree; m_reset
  need_tree; need_local_servers; need_ssh; use_loopback
  PREP_SRC=$W/src/tree PREP_BYTES=$TREE_BYTES
  M_LABEL=([t_tar_nc]="tar | nc" [t_rsync_tree]="rsync -a over ssh" [t_ferry_tree]="ferry cp -r (TLS)"
    [t_scp_tree]="scp -r (once)")
  echo "== tree: $TREE_FILES files ($(numfmt --to=iec "$TREE_BYTES")) over loopback, $REPS alternating rounds; scp -r once"
  m_rounds "$REPS" prepare t_tar_nc t_rsync_tree t_ferry_tree
  m_rounds 1 prepare t_scp_tree
  m_header
  local t
  for t in t_tar_nc t_rsync_tree t_ferry_tree t_scp_tree; do m_row $t "$TREE_BYTES"; done
  cpu_note "Over ssh, recv is our sshd and all it ran for the connection."
  ratio_note
  m_ratio "speed: ferry cp -r / tar | nc" "t_tar_nc|sec" "t_ferry_tree|sec"
  m_ratio "speed: ferry cp -r / rsync -a over ssh" "t_rsync_tree|sec" "t_ferry_tree|sec"
  # scp -r ran once, after the rounds: a ratio to ferry's median, not paired.
  local f s
  f=$(m_median ${M_S["t_ferry_tree|sec"]}) s=$(m_median ${M_S["t_scp_tree|sec"]})
  if [ "$f" != NA ] && [ "$s" != NA ]; then
    printf '  %-58s %6.2fx  (scp -r ran once)\n' "speed: ferry cp -r / scp -r" "$(m_calc "$s / $f")"
  fi
}

case_crypto() {
  M_CASE=crypto; m_reset
  need_file; need_local_servers; need_ssh; use_loopback
  PREP_SRC=$SRC PREP_BYTES=$BYTES
  M_LABEL=([t_ferry_tls]="ferry TLS" [t_ferry_plain]="ferry plaintext" [t_ferry_ssh]="ferry over ssh"
    [t_scp]="scp" [t_rsync]="rsync over ssh" [t_rclone]="rclone over sftp")
  echo "== crypto: $(numfmt --to=iec "$BYTES") random file over loopback, $REPS alternating rounds"
  m_rounds "$REPS" prepare t_ferry_tls t_ferry_plain t_ferry_ssh t_scp t_rsync t_rclone
  m_header
  local t
  for t in t_ferry_tls t_ferry_plain t_ferry_ssh t_scp t_rsync t_rclone; do m_row $t "$BYTES"; done
  cpu_note "Over ssh, recv is our sshd and all it ran for the connection."
  ratio_note
  m_ratio "speed: ferry TLS / ferry plaintext (bar 0.75)" "t_ferry_plain|sec" "t_ferry_tls|sec"
  m_ratio "speed: ferry TLS / scp (bar 4)" "t_scp|sec" "t_ferry_tls|sec"
  m_ratio "speed: ferry TLS / rsync over ssh" "t_rsync|sec" "t_ferry_tls|sec"
  m_ratio "speed: ferry TLS / rclone over sftp" "t_rclone|sec" "t_ferry_tls|sec"
  m_ratio "speed: ferry TLS / ferry over ssh" "t_ferry_ssh|sec" "t_ferry_tls|sec"
  m_ratio "receiver CPU: ferry TLS / scp" "t_ferry_tls|rcv" "t_scp|rcv"
}

# Diagnosis overhead: the same copy with sampling every 200 ms (the default)
# and effectively off (one sample a minute), alternating, twice REPS rounds.
case_sampling() {
  M_CASE=sampling; m_reset
  need_file; need_local_servers; use_loopback
  PREP_SRC=$SRC PREP_BYTES=$BYTES
  M_LABEL=([t_ferry_tls]="ferry, sampling 200 ms" [t_ferry_unsampled]="ferry, sampling off")
  echo "== sampling: $(numfmt --to=iec "$BYTES") over loopback (TLS), $((REPS * 2)) alternating rounds"
  m_rounds $((REPS * 2)) prepare t_ferry_tls t_ferry_unsampled
  m_header
  m_row t_ferry_unsampled "$BYTES"
  m_row t_ferry_tls "$BYTES"
  m_ratio "time: sampling 200 ms / sampling off (1.00 = no overhead)" "t_ferry_tls|sec" "t_ferry_unsampled|sec"
  m_ratio "sender CPU: sampling 200 ms / sampling off" "t_ferry_tls|snd" "t_ferry_unsampled|snd"
  m_ratio "receiver CPU: sampling 200 ms / sampling off" "t_ferry_tls|rcv" "t_ferry_unsampled|rcv"
}

# ---- delay: a 100 ms / 1 Gbit path made by tools/delay_line -----------------------
t_ferry_p1() { local FERRY_OPTS=(-P 1); t_ferry_plain; }
t_ferry_p2() { local FERRY_OPTS=(-P 2); t_ferry_plain; }
t_ferry_p4() { local FERRY_OPTS=(-P 4); t_ferry_plain; }
t_ferry_auto() { t_ferry_plain; }  # no -P: ferry picks by the path's RTT
t_iperf3_p1() { local IPERF_OPTS=(-P 1); t_iperf3; }
t_iperf3_p2() { local IPERF_OPTS=(-P 2); t_iperf3; }
t_iperf3_p4() { local IPERF_OPTS=(-P 4); t_iperf3; }
t_iperf3_cubic() { local IPERF_OPTS=(-P 1 -C cubic); t_iperf3; }
case_delay() {
  M_CASE=delay; m_reset
  local size=${DELAY_SIZE:-512M} tools
  source bench/lib/delay_path.sh
  mkdir -p "$W/src/delay"
  SRC=$W/src/delay/big
  "$GEN" file "$SRC" "$size"
  BYTES=$(stat -c %s "$SRC")
  echo "== delay: $(numfmt --to=iec "$BYTES") over a 100 ms / 1 Gbit path (tools/delay_line, 50 ms each way), Linux's default buffers, plaintext, $REPS alternating rounds"
  delay_path_up "ferry-bench-da-$$" "ferry-bench-db-$$" 50ms 1gbit
  HOST=$DELAY_PATH_ADDR_B CLI=(ip netns exec "$DELAY_PATH_NS_A") SRV=(ip netns exec "$DELAY_PATH_NS_B")
  echo "  congestion control: $(ip netns exec "$DELAY_PATH_NS_A" sysctl -n net.ipv4.tcp_congestion_control)" \
    "(iperf3 cubic: -C cubic); tcp_wmem max $(ip netns exec "$DELAY_PATH_NS_A" sysctl -n net.ipv4.tcp_wmem | awk '{print $3}')," \
    "tcp_rmem max $(ip netns exec "$DELAY_PATH_NS_B" sysctl -n net.ipv4.tcp_rmem | awk '{print $3}')"
  start_ferry PLAIN_PID $PLAIN_PORT --plaintext
  PREP_SRC=$SRC PREP_BYTES=$BYTES
  M_LABEL=([t_ferry_p1]="ferry -P 1" [t_ferry_p2]="ferry -P 2" [t_ferry_p4]="ferry -P 4"
    [t_ferry_auto]="ferry (auto: -P 4 here)" [t_iperf3_p1]="iperf3 -P 1" [t_iperf3_p2]="iperf3 -P 2"
    [t_iperf3_p4]="iperf3 -P 4" [t_iperf3_cubic]="iperf3 -P 1 -C cubic")
  tools=(t_ferry_p1 t_iperf3_p1 t_ferry_p2 t_iperf3_p2 t_ferry_p4 t_iperf3_p4 t_ferry_auto t_iperf3_cubic)
  m_rounds "$REPS" prepare "${tools[@]}"
  m_header
  local t
  for t in "${tools[@]}"; do m_row $t "$BYTES"; done
  cpu_note
  ratio_note
  m_ratio "speed: ferry -P 1 / iperf3 -P 1" "t_iperf3_p1|sec" "t_ferry_p1|sec"
  m_ratio "speed: ferry -P 2 / iperf3 -P 2" "t_iperf3_p2|sec" "t_ferry_p2|sec"
  m_ratio "speed: ferry -P 4 / iperf3 -P 4" "t_iperf3_p4|sec" "t_ferry_p4|sec"
  m_ratio "speed: ferry auto / iperf3 -P 4" "t_iperf3_p4|sec" "t_ferry_auto|sec"
  m_ratio "speed: ferry auto / ferry -P 1" "t_ferry_p1|sec" "t_ferry_auto|sec"
  m_ratio "speed: iperf3 bbr / iperf3 cubic (-P 1)" "t_iperf3_cubic|sec" "t_iperf3_p1|sec"
  m_stop "$PLAIN_PID"
  delay_path_down
  use_loopback
}

main() {
  local c
  local selected=("${CASES[@]}")
  [ ${#ONLY[@]} -eq 0 ] || selected=("${ONLY[@]}")
  for c in "${selected[@]}"; do
    declare -F "case_$c" >/dev/null || { echo "ferry_bench: no case '$c' (cases: ${CASES[*]})" >&2; exit 2; }
  done
  if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
    bash scripts/install-deps.sh --with-test-tools
    bash scripts/build.sh
  fi
  FERRY=${FERRY:-$PWD/build/bin/ferry}
  GEN=${GEN:-$PWD/build/bin/gen-tree}
  [ -x "$FERRY" ] && [ -x "$GEN" ] || { echo "ferry_bench: no $FERRY or $GEN (build them, or set FERRY and GEN)" >&2; exit 2; }
  local p
  for p in $TLS_PORT $PLAIN_PORT $IPERF_PORT $NC_PORT $SSH_PORT; do
    if ss -Hltn "sport = :$p" | grep -q .; then
      echo "ferry_bench: port $p is in use on this host; the bench needs it" >&2; exit 2
    fi
  done
  W=$(mktemp -d "${BENCH_TMP:-/dev/shm}/ferry-bench.XXXXXX")
  W_FS=$(stat -f -c %T "$W")
  M_TMP=$W
  mkdir "$W/src" "$W/dst"
  echo "== $($FERRY --version) ($FERRY); $(iperf3 --version | head -1); $(nc -h 2>&1 | head -1); $(cp --version | head -1)"
  echo "== work directory $W ($W_FS); cases: ${selected[*]}; $REPS rounds"
  for c in "${selected[@]}"; do
    echo
    "case_$c"
  done
  echo
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(date -u +%F)," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ ${#M_FAILURES[@]} -gt 0 ]; then
    echo "== ${#M_FAILURES[@]} failed:"
    printf '  %s\n' "${M_FAILURES[@]}"
    exit 1
  fi
}
main

#!/usr/bin/env bash
# Runs ferry and its anchors side by side on this machine and prints ratios.
#   bash bench/ferry_bench.sh [--quick]
# Cases (each the median of REPS runs, source and destination in tmpfs):
#   file : a 2 GiB random file over loopback, file to file (iperf3 is memory to memory)
#   tree : 20,000 files (300 MB) over loopback
#   veth : the 2 GiB file between two network namespaces joined by a veth pair
#   crypto: the 2 GiB file, encrypted ferry (TLS, the default) against
#          plaintext ferry, ferry over ssh, scp, rsync over ssh and rclone over
#          sftp, in alternating rounds; min/median/max, ratios, CPU s/GB
# Also prints ferry's CPU seconds per GB on each side.
#   bash bench/ferry_bench.sh --only crypto    runs just that case
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=5
FILE_SIZE=2G
ONLY=
case "${1:-}" in
  --quick) REPS=1; FILE_SIZE=512M ;;
  --only) ONLY=${2:?--only needs a case name} ;;
esac
bash scripts/install-deps.sh --with-test-tools
bash scripts/build.sh
FERRY=$PWD/build/bin/ferry
GEN=$PWD/build/bin/gen-tree
# Sources and destinations live in tmpfs: the pipeline is measured, not this
# machine's disk (ext4 here writes a new 512 MiB file at ~0.5 GB/s even with dd).
W=$(mktemp -d /dev/shm/ferry-bench.XXXXXX)
PIDS=()
NS_A=ferry-bench-a NS_B=ferry-bench-b
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$W/sshd.pid" ] && kill "$(cat "$W/sshd.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del $NS_A 2>/dev/null || true
  ip netns del $NS_B 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
export FERRY_TOKEN=bench-$$

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
prepare() {  # $1 = source to keep cached; clears the destination and flushes dirty pages
  mkdir -p "$W/dst" && find "$W/dst" -mindepth 1 -delete  # keep the inode: ferry serve holds it
  sync
  cat "$1" >/dev/null 2>&1 || tar -c -C "$1" . >/dev/null
}
# Waits until something listens on port $1 (without connecting: one-shot servers would take it).
wait_port() { for _ in $(seq 500); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.01; done; return 1; }

# On this VM, memory touched for the first time costs up to 10x more to fill
# (a 2 GiB cp into tmpfs took 0.43-5.6 s before, 0.61-0.65 s after). Touch
# enough once, so that no tool's run pays for it; iperf3 never would.
head -c 6G /dev/zero >"$W/warm" && rm "$W/warm"

echo "== inputs in $W"
"$GEN" file "$W/big" $FILE_SIZE
"$GEN" tree "$W/tree" 20000 300M
BYTES=$(stat -c %s "$W/big")
TREE_BYTES=$(du -sb "$W/tree" | cut -f1)

# ssh on 127.0.0.1:2222 with a throwaway key, for scp and rsync.
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"
cp "$W/key.pub" "$W/authorized_keys"
mkdir -p /run/sshd
cat >"$W/sshd_config" <<CFG
Port 2222
ListenAddress 127.0.0.1
HostKey $W/hostkey
AuthorizedKeysFile $W/authorized_keys
PermitRootLogin yes
StrictModes no
UsePAM no
PidFile $W/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
/usr/sbin/sshd -f "$W/sshd_config"
wait_port 2222
SSH="ssh -i $W/key -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
SCP="scp -i $W/key -P 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"

mkdir -p "$W/dst"
"$FERRY" serve "$W/dst" --listen 127.0.0.1:7177 >"$W/serve.log" 2>&1 & SERVER=$!; PIDS+=($SERVER)
wait_port 7177
"$FERRY" serve --plaintext "$W/dst" --listen 127.0.0.1:7178 >"$W/serve-plain.log" 2>&1 &
PLAIN_SERVER=$!; PIDS+=($PLAIN_SERVER)
wait_port 7178

declare -A RESULT
run_case() {  # name source cmd...; prints and records the median seconds
  local name=$1 src=$2; shift 2
  local times=()
  for _ in $(seq $REPS); do
    prepare "$src"
    local t0=$(now)
    "$@" >/dev/null 2>"$W/err" || { echo "  $name failed: $(head -3 "$W/err")"; return 1; }
    local t1=$(now)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  RESULT[$name]=$(printf '%s\n' "${times[@]}" | median)
  printf '  %-28s %7.3f s\n' "$name" "${RESULT[$name]}"
}

iperf_rate() {  # extra iperf3 flags; prints GB/s (receiver side)
  iperf3 -s -1 -p 5299 >/dev/null 2>&1 & local s=$!
  wait_port 5299
  iperf3 -c 127.0.0.1 -p 5299 -n $BYTES -J "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e9)'
  wait $s 2>/dev/null || true
}

nc_file() {
  nc -l 127.0.0.1 5301 >"$W/dst/big" & local l=$!
  wait_port 5301
  nc -N 127.0.0.1 5301 <"$W/big"
  wait $l
}
tar_nc() {
  (nc -l 127.0.0.1 5302 | tar -x -C "$W/dst") & local l=$!
  wait_port 5302
  tar -c -C "$W/tree" . | nc -N 127.0.0.1 5302
  wait $l
}

cpu_of() { awk '{print ($14+$15)/100}' /proc/$1/stat; }
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f", a[1], a[int((NR+1)/2)], a[NR]}'; }

crypto_case() {
  echo "== crypto: $(numfmt --to=iec $BYTES) over loopback, $REPS alternating rounds"
  ferry_tls() { "$FERRY" cp -q "$W/big" ferry://127.0.0.1:7177/; }
  ferry_plain() { "$FERRY" cp -q --plaintext "$W/big" ferry://127.0.0.1:7178/; }
  ferry_ssh() { "$FERRY" cp -q -e "$SSH" --remote-ferry "$FERRY" "$W/big" root@127.0.0.1:"$W/dst/"; }
  scp_copy() { $SCP "$W/big" root@127.0.0.1:"$W/dst/"; }
  rsync_copy() { rsync -a -e "$SSH" "$W/big" root@127.0.0.1:"$W/dst/"; }
  rclone_copy() { rclone copyto --config /dev/null "$W/big" ":sftp,host=127.0.0.1,port=2222,user=root,key_file=$W/key:$W/dst/big"; }
  local names=(ferry_tls ferry_plain ferry_ssh scp_copy rsync_copy rclone_copy)
  declare -A T CLI SRV
  local srv_pid
  for _ in $(seq $REPS); do
    for n in "${names[@]}"; do
      prepare "$W/big"
      srv_pid=
      [ $n = ferry_tls ] && srv_pid=$SERVER
      [ $n = ferry_plain ] && srv_pid=$PLAIN_SERVER
      local s0=0; [ -n "$srv_pid" ] && s0=$(cpu_of $srv_pid)
      local t0=$(now)
      /usr/bin/time -o "$W/time" -f '%U %S' bash -c "$(declare -f $n); $(declare -p W FERRY SSH SCP); $n" \
        >/dev/null 2>"$W/err" || { echo "  $n failed: $(head -3 "$W/err")"; return 1; }
      local t1=$(now)
      T[$n]+="$(echo "$t1 - $t0" | bc -l) "
      CLI[$n]+="$(awk '{print $1+$2}' "$W/time") "
      [ -n "$srv_pid" ] && SRV[$n]+="$(echo "$(cpu_of $srv_pid) - $s0" | bc -l) "
    done
  done
  local gb=$(echo "$BYTES / 1000000000" | bc -l)
  local med_tls=$(printf '%s\n' ${T[ferry_tls]} | median)
  printf '  %-22s %23s %10s %12s %12s\n' case "seconds min/med/max" "GB/s" "vs TLS ferry" "CPU s/GB"
  for n in "${names[@]}"; do
    local st=$(printf '%s\n' ${T[$n]} | stats)
    local med=$(echo "$st" | cut -d' ' -f2)
    local cpu=$(printf '%s\n' ${CLI[$n]} | median)
    local side="client $(printf '%.2f' "$(echo "$cpu / $gb" | bc -l)")"
    if [ -n "${SRV[$n]:-}" ]; then
      side+=", server $(printf '%.2f' "$(echo "$(printf '%s\n' ${SRV[$n]} | median) / $gb" | bc -l)")"
    fi
    printf '  %-22s %23s %10.2f %11.2fx   %s\n' "$n" "$st" "$(echo "$BYTES / $med / 1000000000" | bc -l)" \
      "$(echo "$med / $med_tls" | bc -l)" "$side"
  done
  local med_plain=$(printf '%s\n' ${T[ferry_plain]} | median)
  local med_scp=$(printf '%s\n' ${T[scp_copy]} | median)
  printf '  encrypted ferry = %.2fx plaintext ferry (bar 0.75), %.2fx scp (bar 4)\n' \
    "$(echo "$med_plain / $med_tls" | bc -l)" "$(echo "$med_scp / $med_tls" | bc -l)"
  echo "  (the \"vs TLS ferry\" column is time over TLS ferry's time: above 1 is slower than it)"
  echo "  (client CPU is the ferry/scp/rsync/rclone process and what it runs, ssh included)"
}
if [ "$ONLY" = crypto ]; then
  crypto_case
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(date -u +%F)"
  exit 0
fi

echo "== file: $(numfmt --to=iec $BYTES) over loopback, $REPS runs each"
declare -a IPERF IPERFZ
for _ in $(seq $REPS); do IPERF+=("$(iperf_rate)"); IPERFZ+=("$(iperf_rate -Z)"); done
IPERF_R=$(printf '%s\n' "${IPERF[@]}" | median)
IPERFZ_R=$(printf '%s\n' "${IPERFZ[@]}" | median)
printf '  %-28s %7.3f GB/s\n' "iperf3 (memory to memory)" "$IPERF_R" "iperf3 -Z" "$IPERFZ_R"
run_case "nc file to file" "$W/big" nc_file
run_case "scp" "$W/big" $SCP "$W/big" root@127.0.0.1:"$W/dst/"
run_case "rsync over ssh" "$W/big" rsync -a -e "$SSH" "$W/big" root@127.0.0.1:"$W/dst/"
srv_cpu0=$(cpu_of $SERVER)
ferry_file() { /usr/bin/time -o "$W/time" -f '%U %S' "$FERRY" cp -q "$W/big" ferry://127.0.0.1:7177/; }
run_case "ferry cp" "$W/big" ferry_file
srv_cpu1=$(cpu_of $SERVER)
cli=$(awk '{print $1+$2}' "$W/time")
srv=$(echo "($srv_cpu1 - $srv_cpu0) / $REPS" | bc -l)

rate() { echo "$BYTES / $1 / 1000000000" | bc -l; }
F=$(rate ${RESULT["ferry cp"]})
echo
printf '  ferry %.2f GB/s = %.2fx iperf3, %.2fx iperf3 -Z, %.2fx nc, %.2fx scp, %.2fx rsync\n' "$F" \
  "$(echo "$F / $IPERF_R" | bc -l)" "$(echo "$F / $IPERFZ_R" | bc -l)" \
  "$(echo "${RESULT["nc file to file"]} / ${RESULT["ferry cp"]}" | bc -l)" \
  "$(echo "${RESULT["scp"]} / ${RESULT["ferry cp"]}" | bc -l)" \
  "$(echo "${RESULT["rsync over ssh"]} / ${RESULT["ferry cp"]}" | bc -l)"
GB=$(echo "$BYTES / 1000000000" | bc -l)
printf '  ferry CPU per GB: sender (client) %.2f s, receiver (server) %.2f s\n' \
  "$(echo "$cli / $GB" | bc -l)" "$(echo "$srv / $GB" | bc -l)"


# Diagnosis overhead: the same copy with sampling every 200 ms (the default)
# and with sampling effectively off (one sample a minute), in alternating
# pairs so that drift of the machine hits both alike.
ferry_nosample() { "$FERRY" cp -q --interval 60000 "$W/big" ferry://127.0.0.1:7177/; }
ON=() OFF=()
for _ in $(seq $((REPS * 2))); do
  for mode in on off; do
    prepare "$W/big"
    t0=$(now)
    if [ $mode = on ]; then ferry_file; else ferry_nosample; fi >/dev/null 2>&1
    t1=$(now)
    if [ $mode = on ]; then ON+=("$(echo "$t1 - $t0" | bc -l)"); else OFF+=("$(echo "$t1 - $t0" | bc -l)"); fi
  done
done
T_ON=$(printf '%s\n' "${ON[@]}" | median)
T_OFF=$(printf '%s\n' "${OFF[@]}" | median)
printf '  %-28s %7.3f s\n' "ferry cp, sampling off" "$T_OFF" "ferry cp, sampling 200ms" "$T_ON"
printf '  sampling overhead: %+.1f%% of time (medians of %d alternating pairs)\n' \
  "$(echo "($T_ON / $T_OFF - 1) * 100" | bc -l)" $((REPS * 2))

echo
echo "== tree: 20,000 files ($(numfmt --to=iec $TREE_BYTES)) over loopback, $REPS runs each"
run_case "tar | nc" "$W/tree" tar_nc
run_case "rsync -a over ssh" "$W/tree" rsync -a -e "$SSH" "$W/tree" root@127.0.0.1:"$W/dst/"
[ $REPS -gt 1 ] && OLD=$REPS && REPS=1
run_case "scp -r" "$W/tree" $SCP -r "$W/tree" root@127.0.0.1:"$W/dst/"
REPS=${OLD:-$REPS}
run_case "ferry cp -r" "$W/tree" "$FERRY" cp -q -r "$W/tree" ferry://127.0.0.1:7177/
T=${RESULT["ferry cp -r"]}
printf '  ferry is %.2fx tar|nc, %.2fx rsync, %.2fx scp -r (ratios of times; >1 = ferry faster)\n' \
  "$(echo "${RESULT["tar | nc"]} / $T" | bc -l)" "$(echo "${RESULT["rsync -a over ssh"]} / $T" | bc -l)" \
  "$(echo "${RESULT["scp -r"]} / $T" | bc -l)"

echo
echo "== veth: $(numfmt --to=iec $BYTES) between two network namespaces"
ip netns add $NS_A && ip netns add $NS_B
ip link add fb-a type veth peer name fb-b
ip link set fb-a netns $NS_A && ip link set fb-b netns $NS_B
ip -n $NS_A addr add 10.201.0.1/30 dev fb-a && ip -n $NS_B addr add 10.201.0.2/30 dev fb-b
ip -n $NS_A link set fb-a up && ip -n $NS_B link set fb-b up
ip -n $NS_A link set lo up && ip -n $NS_B link set lo up
ip netns exec $NS_B "$FERRY" serve "$W/dst" --listen 10.201.0.2:7177 >/dev/null 2>&1 & PIDS+=($!)
ip netns exec $NS_B iperf3 -s -p 5299 >/dev/null 2>&1 & PIDS+=($!)
sleep 0.3
V_IPERF=$(ip netns exec $NS_A iperf3 -c 10.201.0.2 -p 5299 -n $BYTES -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e9)')
printf '  %-28s %7.3f GB/s\n' "iperf3 over veth" "$V_IPERF"
run_case "ferry cp over veth" "$W/big" ip netns exec $NS_A "$FERRY" cp -q "$W/big" ferry://10.201.0.2:7177/
VF=$(rate ${RESULT["ferry cp over veth"]})
printf '  ferry over veth %.2f GB/s = %.2fx iperf3 over veth\n' "$VF" "$(echo "$VF / $V_IPERF" | bc -l)"
echo
echo
crypto_case
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(date -u +%F)"

# shellcheck shell=bash
# Shared measuring helpers for the bench scripts: source it, don't run it.
#   source "$(dirname "$0")/lib/measure.sh"
#
# The method, for this VM (docs/PERFORMANCE.md): memory touched for the first
# time costs much more than memory touched recently, so absolute times swing
# from minute to minute. So:
#   - every run of every tool is preceded by the same preparation, including
#     m_prefault: a file of the transfer's size written into the destination's
#     filesystem and deleted, so that each tool gets recently touched pages alike;
#   - tools alternate: m_rounds runs every tool once per round (round 1: each
#     tool once; round 2: each tool once; ...), in the same run;
#   - every measure is printed as min / median / max (m_row), and ratios are
#     given both as the ratio of medians and round by round (m_ratio).
#
# A tool is a shell function that does one run and sets
#   M_SEC  wall seconds of the timed part (take $EPOCHREALTIME before, m_since after)
#   M_SND  CPU seconds (user + system) of the sending side, empty if not measured
#   M_RCV  CPU seconds of the receiving side, empty if not measured
# and returns non-zero on failure, with M_ERR saying why. M_TOOL holds its own
# name (to key extra samples of its own in M_S). It runs as the test of
# an `if`, so `set -e` does not apply inside it: it must check every step itself.
# CPU seconds come from /usr/bin/time for one-shot processes (m_time_cpu) and
# from /proc/PID/stat for long-running servers (m_proc_cpu before and after).
#
# Samples are kept per round in M_S["TOOL|sec"], M_S["TOOL|snd"] and
# M_S["TOOL|rcv"]: space-separated, one per round, NA where a run failed or the
# measure does not exist, so that round i of two tools can be paired.

# Samples are numbers or NA, split into words on purpose; M_* are for the caller.
# shellcheck disable=SC2206,SC2207,SC2046,SC1007,SC2034

export LC_ALL=C  # a decimal point in $EPOCHREALTIME and printf, whatever the locale

M_CLK_TCK=$(getconf CLK_TCK)
declare -gA M_S=()           # samples, see above
declare -gA M_LABEL=()       # TOOL -> the name printed for it (default: TOOL without t_)
declare -gA M_PIDS=()        # processes started and not yet waited for (m_track)
declare -ga M_FAILURES=()    # one line per failed run, for the summary
M_CASE=                      # the current case, named in failure lines
M_TMP=${M_TMP:-/tmp}         # where m_rounds keeps a tool's scratch output

m_reset() { M_S=(); M_LABEL=(); }

# --- arithmetic and statistics -------------------------------------------

m_calc() { awk "BEGIN { printf \"%.6f\", $* }"; }  # m_calc '1.5 / 3'
m_since() { local t1=$EPOCHREALTIME; m_calc "$t1 - $1"; }  # seconds since an $EPOCHREALTIME

# m_stats VALUE...: "min median max count", NA and empty values skipped
# (the median of an even count is the mean of the middle two).
m_stats() {
  printf '%s\n' "$@" | awk '$1 != "NA" && $1 != "" { print $1 }' | sort -g | awk '
    { a[NR] = $1 }
    END {
      if (NR == 0) { print "NA NA NA 0"; exit }
      m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      printf "%.6f %.6f %.6f %d\n", a[1], m, a[NR], NR
    }'
}
m_median() { local s; s=($(m_stats "$@")); echo "${s[1]}"; }

# m_scale FACTOR VALUE...: each value times FACTOR, NA kept.
m_scale() {
  local f=$1; shift
  printf '%s\n' "$@" | awk -v f="$f" '{ if ($1 == "NA" || $1 == "") print "NA"; else printf "%.6f\n", $1 * f }'
}

# m_fmt3 FORMAT VALUE...: "min / med / max" of the values, each with FORMAT.
m_fmt3() {
  local fmt=$1 s; shift
  s=($(m_stats "$@"))
  if [ "${s[3]}" = 0 ]; then echo "-"; return; fi
  printf "$fmt / $fmt / $fmt" "${s[0]}" "${s[1]}" "${s[2]}"
}

# --- preparation and CPU accounting --------------------------------------

# m_prefault DIR BYTES: writes BYTES of zeros to a file in DIR's filesystem and
# deletes it, so that the next writer there gets pages this VM has touched
# recently instead of paying for the first touch.
m_prefault() {
  local f="$1/.prefault.$$"
  dd if=/dev/zero of="$f" bs=1M count="$2" iflag=count_bytes status=none && rm -f "$f"
}

# m_proc_cpu PID: CPU seconds (user + system, every thread) a running process
# has used so far, from /proc/PID/stat. Read it before and after a run.
m_proc_cpu() {
  local s f
  s=$(<"/proc/$1/stat") || return 1
  s=${s##*) }  # the name in parentheses may hold spaces
  f=($s)       # f[0] is field 3 (state): utime (14) is f[11], stime (15) f[12]
  m_calc "(${f[11]} + ${f[12]}) / $M_CLK_TCK"
}

# m_proc_child_cpu PID: CPU seconds of PID's children that PID has reaped
# (cutime + cstime), each with its own reaped descendants: what a daemon such
# as sshd -D ran for connections that are over.
m_proc_child_cpu() {
  local s f
  s=$(<"/proc/$1/stat") || return 1
  s=${s##*) }
  f=($s)       # cutime (16) is f[13], cstime (17) f[14]
  m_calc "(${f[13]} + ${f[14]}) / $M_CLK_TCK"
}
# m_wait_no_children PID SECONDS: waits until PID has no child process left.
m_wait_no_children() {
  local i
  for ((i = 0; i < $2 * 100; i++)); do
    pgrep -P "$1" >/dev/null || return 0
    sleep 0.01
  done
  return 1
}

# m_timed OUT CMD...: runs CMD under /usr/bin/time, its user and system seconds
# into OUT (read them with m_time_cpu); the exit status is CMD's. CMD runs in
# the background and is waited for, so that a signal to the script is handled
# at once and its cleanup (m_stop_all) ends CMD too.
m_timed() {
  local out=$1 p rc=0; shift
  /usr/bin/time -o "$out" -f '%U %S' "$@" &
  p=$!; m_track $p
  wait $p || rc=$?
  m_untrack $p
  return $rc
}
m_time_cpu() {  # OUT of m_timed (or of /usr/bin/time -f '%U %S'): U+S seconds
  tail -n 1 "$1" 2>/dev/null | awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { printf "%.2f", $1 + $2; ok = 1 } END { exit !ok }'
}

# --- processes -------------------------------------------------------------

m_track() { M_PIDS[$1]=1; }
m_untrack() { unset "M_PIDS[$1]"; }
# m_kill_tree PID: ends PID's descendants, then PID (only processes this
# script started, found by their parent id).
m_kill_tree() {
  local c
  for c in $(pgrep -P "$1" 2>/dev/null || true); do m_kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
# m_stop PID: ends a tracked process and its descendants and reaps it.
m_stop() { m_kill_tree "$1"; wait "$1" 2>/dev/null || true; m_untrack "$1"; }
m_stop_all() { local p; for p in "${!M_PIDS[@]}"; do m_stop "$p"; done; }

# m_wait_port PORT [PID [CMD...]]: waits (up to 5 s) until something listens on
# TCP PORT, looking with `CMD ss` (CMD: e.g. `ip netns exec NS` to look in a
# namespace), without connecting, since one-shot servers would take the
# connection. Gives up early when PID has exited.
m_wait_port() {
  local port=$1 pid=${2:-} i
  shift $(($# > 1 ? 2 : 1))
  for i in $(seq 500); do
    "$@" ss -Hltn "sport = :$port" | grep -q . && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
    sleep 0.01
  done
  return 1
}

# m_err FILE: the first lines of an error output, on one line.
m_err() { head -n 3 "$1" 2>/dev/null | tr '\n' ' ' | cut -c 1-300; }

# --- rounds ------------------------------------------------------------------

# m_fail TOOL ROUND MESSAGE: reports a failed run at once and keeps it for the summary.
m_fail() {
  local line="${M_CASE:+$M_CASE: }${M_LABEL[$1]:-${1#t_}}, round $2: $3"
  echo "  FAILED $line"
  M_FAILURES+=("$line")
}

# m_rounds REPS PREPARE TOOL...: REPS rounds; in each, PREPARE TOOL and then
# TOOL, for every TOOL once. The order turns by one each round, so that no tool
# always runs after the same one. Prints one line per round with the seconds of
# each run, in the order they ran.
m_rounds() {
  local reps=$1 prep=$2; shift 2
  local tools=("$@") n=$# r i t ok line
  for ((r = 0; r < reps; r++)); do
    line="  round $((r + 1))/$reps:"
    for ((i = 0; i < n; i++)); do
      t=${tools[(i + r) % n]}
      M_SEC= M_SND= M_RCV= M_ERR= M_TOOL=$t ok=1
      if ! "$prep" "$t"; then
        M_ERR="preparing for it failed${M_ERR:+: $M_ERR}" ok=0
      elif ! "$t"; then
        ok=0
      elif [ -z "$M_SEC" ]; then
        M_ERR="it recorded no time" ok=0
      fi
      if [ $ok = 0 ]; then
        m_fail "$t" $((r + 1)) "${M_ERR:-failed}"
        M_SEC= M_SND= M_RCV=
      fi
      M_S["$t|sec"]+="${M_SEC:-NA} "
      M_S["$t|snd"]+="${M_SND:-NA} "
      M_S["$t|rcv"]+="${M_RCV:-NA} "
      if [ $ok = 1 ]; then line+=" ${t#t_} $(printf %.3f "$M_SEC")"; else line+=" ${t#t_} FAILED"; fi
    done
    echo "$line"
  done
}

# --- printing ----------------------------------------------------------------

m_header() {
  printf '  %-28s %-25s %6s  %-22s %s\n' tool "seconds min / med / max" "GB/s" \
    "send CPU s/GB" "recv CPU s/GB"
}
# m_row TOOL BYTES: seconds min/med/max, GB/s at the median, and each side's
# CPU seconds per GB (10^9 bytes) min/med/max.
m_row() {
  local t=$1 bytes=$2 s gbs="-" per
  s=($(m_stats ${M_S["$t|sec"]:-}))
  [ "${s[3]}" != 0 ] && gbs=$(m_calc "$bytes / ${s[1]} / 1e9")
  per=$(m_calc "1e9 / $bytes")
  printf '  %-28s %-25s %6s  %-22s %s\n' "${M_LABEL[$t]:-${t#t_}}" \
    "$(m_fmt3 %.3f ${M_S["$t|sec"]:-})" \
    "$([ "$gbs" = - ] && echo - || printf %.2f "$gbs")" \
    "$(m_fmt3 %.2f $(m_scale "$per" ${M_S["$t|snd"]:-}))" \
    "$(m_fmt3 %.2f $(m_scale "$per" ${M_S["$t|rcv"]:-}))"
}

# m_ratio LABEL A B: A's median over B's median, and the min / median / max of
# A over B round by round (both ran in the same round, so drift that hits both
# cancels). A and B are sample keys, e.g. "t_iperf3|sec" "t_ferry|sec": a time
# ratio, above 1 when B is faster than A.
m_ratio() {
  local label=$1 a=(${M_S[$2]:-}) b=(${M_S[$3]:-}) per=() i ma mb
  for i in "${!a[@]}"; do
    [ "${a[i]}" = NA ] || [ "${b[i]:-NA}" = NA ] && continue
    awk -v x="${b[i]}" 'BEGIN { exit !(x > 0) }' || continue
    per+=("$(m_calc "${a[i]} / ${b[i]}")")
  done
  ma=$(m_median "${a[@]}") mb=$(m_median "${b[@]}")
  if [ "$ma" = NA ] || [ "$mb" = NA ] || ! awk -v x="$mb" 'BEGIN { exit !(x > 0) }'; then
    printf '  %-58s   n/a (no runs to compare)\n' "$label"
    return
  fi
  printf '  %-58s %6.2fx  (round by round %s)\n' "$label" "$(m_calc "$ma / $mb")" \
    "$(m_fmt3 %.2f "${per[@]}")"
}

#!/usr/bin/env bash
# The syscall contract (src/base/sys.h): only base::sys reads errno or makes
# the raw calls in `raw_calls` below, and no code calls a throwing
# std::filesystem function. Files that still do either are listed, with
# their count, in scripts/errno_reads.txt and scripts/raw_syscalls.txt: a
# count may only fall (lower it in the file when it does), no new file may
# start, and the filesystem rule has no exceptions. Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

# A raw call is `::name(` not preceded by a name (so `sys::kill(` is not one).
raw_calls='(^|[^[:alnum:]_])::(waitpid|kill|poll|pipe2|socketpair|dup2|mount|umount2|setns|prctl|ioctl|fork|chdir|chroot|mknod|unshare)\('

count_errno() { grep -w errno "$1" | grep -cvE '^\s*//' || true; }
count_raw() { grep -E "$raw_calls" "$1" | grep -cvE '^\s*//' || true; }

# ratchet BASELINE COUNTER WHAT: holds each file's COUNTER to its line in BASELINE.
ratchet() {
  local baseline=$1 counter=$2 what=$3 count file n limit total=0
  local -A allowed=()
  while read -r count file; do
    [[ -z "$count" || "$count" == \#* ]] && continue
    allowed[$file]=$count
  done <"$baseline"
  while IFS= read -r file; do
    [[ "$file" == src/base/sys.cc ]] && continue
    n=$("$counter" "$file")
    ((n == 0)) && continue
    total=$((total + n))
    limit=${allowed[$file]:-0}
    if ((n > limit)); then
      echo "check_syscalls: $file has $n $what (allowed $limit): use base::sys" >&2
      status=1
    elif ((n < limit)); then
      echo "check_syscalls: $file has $n $what now: lower its line in $baseline to $n" >&2
      status=1
    fi
  done < <(git ls-files 'src/*.cc' 'src/*.h' 'apps/*.cc' 'apps/*.h' 'tools/*.cc' 'tools/*.h')
  totals+=("$total $what")
}

totals=()
ratchet scripts/errno_reads.txt count_errno "errno reads"
ratchet scripts/raw_syscalls.txt count_raw "raw calls"

# std::filesystem calls that throw: the forms without an error_code.
throwing='(std::filesystem|fs)::(create_directories|create_directory|remove_all|remove|exists|is_directory|is_regular_file|rename|copy_file|file_size|weakly_canonical|canonical|permissions|is_empty|read_symlink|create_symlink)\('
if git ls-files 'src/*.cc' 'apps/*.cc' 'tools/*.cc' | xargs grep -nE "$throwing" | grep -vE ', ec\)|\(ec\)'; then
  echo "check_syscalls: the calls above throw; use base/dirs.h or the error_code form" >&2
  status=1
fi
if ((status == 0)); then
  echo "check_syscalls: clean (${totals[0]} and ${totals[1]} left outside base::sys)"
fi
exit $status

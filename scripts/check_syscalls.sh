#!/usr/bin/env bash
# The syscall contract (src/base/sys.h): only base::sys reads errno, and no
# code calls a throwing std::filesystem function. Files that still read
# errno themselves are listed in scripts/errno_reads.txt with their count:
# a count may only fall (lower it in the file when it does), no new file
# may start, and the filesystem rule has no exceptions. Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=scripts/errno_reads.txt
status=0
declare -A allowed
while read -r count file; do
  [[ -z "$count" || "$count" == \#* ]] && continue
  allowed[$file]=$count
done <"$baseline"
total=0
while IFS= read -r file; do
  [[ "$file" == src/base/sys.cc ]] && continue
  n=$(grep -w errno "$file" | grep -cvE '^\s*//' || true)
  ((n == 0)) && continue
  total=$((total + n))
  limit=${allowed[$file]:-0}
  if ((n > limit)); then
    echo "check_syscalls: $file reads errno $n times (allowed $limit): use base::sys" >&2
    status=1
  elif ((n < limit)); then
    echo "check_syscalls: $file reads errno $n times now: lower its line in $baseline to $n" >&2
    status=1
  fi
done < <(git ls-files 'src/*.cc' 'src/*.h' 'apps/*.cc' 'apps/*.h')
# std::filesystem calls that throw: the forms without an error_code.
throwing='(std::filesystem|fs)::(create_directories|create_directory|remove_all|remove|exists|is_directory|is_regular_file|rename|copy_file|file_size|weakly_canonical|canonical|permissions|is_empty|read_symlink|create_symlink)\('
if git ls-files 'src/*.cc' 'apps/*.cc' | xargs grep -nE "$throwing" | grep -vE ', ec\)|\(ec\)'; then
  echo "check_syscalls: the calls above throw; use base/dirs.h or the error_code form" >&2
  status=1
fi
((status == 0)) && echo "check_syscalls: clean ($total errno reads left outside base::sys)"
exit $status

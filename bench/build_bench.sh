#!/usr/bin/env bash
# berth build against docker build and buildah bud, side by side in one run.
#   bash bench/build_bench.sh [--runs N]
# One Dockerfile and context (bench/build/) for all three: a busybox base that
# every engine imports from the same rootfs tar, two COPY steps and two RUN
# steps over 4.8 MB of files, ENV, LABEL and CMD. Three cases, each with the
# engines alternating round by round (bench/lib/measure.sh):
#   cold     --no-cache: every step runs;
#   cached   the same build again: every step is a cache hit;
#   changed  one source file edited: the steps from its COPY on run again.
# Before each timed build of `cached` and `changed` the engine builds the
# current context untimed, so its cache is warm whatever ran before.
#
# docker: dockerd from Debian's docker.io (20.10) in a network namespace of its
# own, with private data, exec root and socket. BuildKit when one untimed
# BuildKit build works here, offline; otherwise the classic builder
# (DOCKER_BUILDKIT=0), and the output says why. buildah: private --root/--runroot, overlay storage, its default
# runtime. All builds use --network none. Everything runs in one private mount
# namespace with /sys/fs/cgroup/unified/cgroup.controllers hidden (as
# bench/berth_bench.sh, for crun on this hybrid host) and tmpfs on
# /run/containerd, /run/docker and /var/lib, so that nothing outside $W is
# written; $W is on /dev/shm.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=5
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift ;;
    *) echo "build_bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "${BERTH_BENCH_INSIDE:-}" != 1 ]; then
  bash scripts/install-deps.sh --with-test-tools
  bash scripts/build.sh
  exec env BERTH_BENCH_INSIDE=1 unshare --mount --propagation private bash "$0" --runs "$RUNS"
fi
source bench/lib/measure.sh
mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true
MADE_DIRS=()
for d in /run/containerd /run/docker; do
  [ -d $d ] || { mkdir $d; MADE_DIRS+=($d); }
  mount -t tmpfs -o mode=0711 bench-build $d
done
mount -t tmpfs -o mode=0755 bench-build /var/lib
BIN=$PWD/build/bin
W=$(mktemp -d /dev/shm/build-bench.XXXXXX)
M_TMP=$W
CGROUP_PARENT=build-bench-$$
BERTH="$BIN/berth --root $W/berth --run-root $W/berth-run"
DOCKER="docker -H unix://$W/docker.sock"
BUILDAH="buildah --root $W/buildah --runroot $W/buildah-run --storage-driver overlay --cgroup-manager cgroupfs"
DOCKERD_PID=
cleanup() {
  set +e  # every step, whatever the one before it found
  m_stop_all
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  $BUILDAH rm --all >/dev/null 2>&1 || true
  $BUILDAH rmi --all --force >/dev/null 2>&1 || true
  # Whatever is still mounted below $W (overlays of the three engines).
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
  for h in /sys/fs/cgroup/*/"$CGROUP_PARENT"; do
    [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  for d in /run/containerd /run/docker; do umount $d 2>/dev/null || true; done
  for d in "${MADE_DIRS[@]}"; do rmdir "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

# The context: 50 "dependency" files of 64 KiB and 200 source files of 8 KiB.
mkdir -p "$W/rootfs/bin" "$W/rootfs/etc" "$W/rootfs/tmp" "$W/ctx/deps" "$W/ctx/src"
cp /bin/busybox "$W/rootfs/bin/"
for a in sh cat md5sum tar true; do ln -s busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
cp bench/build/Dockerfile "$W/ctx/Dockerfile"
for i in $(seq -w 1 50); do head -c 65536 /dev/urandom | base64 >"$W/ctx/deps/dep-$i.txt"; done
for i in $(seq -w 1 200); do head -c 8192 /dev/urandom | base64 >"$W/ctx/src/file-$i.c"; done
for e in berth docker buildah; do cp -a "$W/ctx" "$W/ctx-$e"; done

unshare --net dockerd --data-root "$W/docker" --exec-root "$W/docker-exec" \
  -H "unix://$W/docker.sock" --pidfile "$W/docker.pid" --bridge none --iptables=false \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$CGROUP_PARENT" \
  >"$W/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 600); do $DOCKER version >/dev/null 2>&1 && break; sleep 0.1; done
$DOCKER version >/dev/null 2>&1 || { echo "dockerd did not answer:"; tail "$W/dockerd.log"; exit 1; }

$BERTH import "$W/rootfs.tar" localhost/box >/dev/null
$DOCKER import "$W/rootfs.tar" localhost/box >/dev/null
# buildah has no import: a scratch container with the rootfs, committed.
c=$($BUILDAH from scratch)
$BUILDAH add "$c" "$W/rootfs.tar" / >/dev/null
$BUILDAH commit -q "$c" localhost/box >/dev/null
$BUILDAH rm "$c" >/dev/null

echo "== machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); berth $(git rev-parse --short HEAD)," \
  "dockerd $(dockerd --version | awk '{print $3}' | tr -d ,), docker CLI $($DOCKER version -f '{{.Client.Version}}'), $(buildah --version | awk '{print $1, $3}')"

# One build of the engine's context into the tag bench/app; $1: extra flags.
build_berth() { $BERTH build -q --network none -t localhost/bench-app $1 "$W/ctx-berth"; }
build_docker() { DOCKER_BUILDKIT=$DOCKER_BUILDKIT $DOCKER build -q --network none -t localhost/bench-app $1 "$W/ctx-docker"; }
# BuildKit if it builds here (offline, with the CLI this host has), else the
# classic builder; the header says which, and why.
DOCKER_BUILDKIT=1
if build_docker "" >/dev/null 2>"$W/buildkit.err"; then
  DOCKER_BUILDER="BuildKit"
else
  DOCKER_BUILDKIT=0
  DOCKER_BUILDER="classic builder: BuildKit failed: $(m_err "$W/buildkit.err")"
fi
echo "== docker builds with the $DOCKER_BUILDER"
build_buildah() { $BUILDAH bud -q --layers --network none -t localhost/bench-app $1 "$W/ctx-buildah"; }

declare -A EDITS=([berth]=0 [docker]=0 [buildah]=0)  # per engine: equal contexts after equal rounds
prepare() {
  local e=${1#t_}
  case $M_CASE in
    cold) return 0 ;;
    cached) "build_$e" "" >/dev/null 2>"$W/prep.err" || { M_ERR=$(m_err "$W/prep.err"); return 1; } ;;
    changed)
      "build_$e" "" >/dev/null 2>"$W/prep.err" || { M_ERR=$(m_err "$W/prep.err"); return 1; }
      EDITS[$e]=$((EDITS[$e] + 1))
      echo "// edit ${EDITS[$e]}" >>"$W/ctx-$e/src/file-100.c" ;;
  esac
}
timed_build() {
  local e=$1 flags="" t0
  [ "$M_CASE" = cold ] && flags=--no-cache
  t0=$EPOCHREALTIME
  if ! "build_$e" "$flags" >/dev/null 2>"$W/$e.err"; then
    M_ERR=$(m_err "$W/$e.err")
    return 1
  fi
  M_SEC=$(m_since "$t0")
}
t_berth() { timed_build berth; }
t_docker() { timed_build docker; }
t_buildah() { timed_build buildah; }

for M_CASE in cold cached changed; do
  echo "== $M_CASE ($RUNS rounds)"
  m_reset
  m_rounds "$RUNS" prepare t_berth t_docker t_buildah
  printf '  %-28s %s\n' tool "seconds min / med / max"
  for t in t_berth t_docker t_buildah; do
    printf '  %-28s %s\n' "${t#t_}" "$(m_fmt3 %.3f ${M_S["$t|sec"]:-})"
  done
  m_ratio "$M_CASE: berth / docker (bar: <= 0.5)" "t_berth|sec" "t_docker|sec"
  m_ratio "$M_CASE: berth / buildah" "t_berth|sec" "t_buildah|sec"
done

# The three images run the same: the output of each engine's last build.
echo "== the built image's output"
echo "  berth:   $($BERTH run --rm --network none localhost/bench-app | head -c 60)"
echo "  docker:  $($DOCKER run --rm --network none localhost/bench-app | head -c 60)"
echo "  buildah: $($BUILDAH run --network none "$($BUILDAH from -q localhost/bench-app)" cat /app/build.sum | head -c 60)"
if [ ${#M_FAILURES[@]} -gt 0 ]; then
  echo "== failed runs"
  printf '  %s\n' "${M_FAILURES[@]}"
  exit 1
fi

#!/usr/bin/env bash
# Installs the Debian packages Shipyard needs to build and test. Idempotent:
# prints nothing and touches nothing when everything is already installed.
set -euo pipefail
BUILD_PKGS=(build-essential libseccomp-dev libcap-dev libarchive-dev libcurl4-openssl-dev python3 cmake ninja-build ccache pkg-config libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libxxhash-dev libssl-dev libexpected-dev
  liburing-dev libisal-dev libzstd-dev libnl-route-3-dev libnftables-dev libldns-dev clang-format clang-tidy)
# What the demo runs: the container image is busybox + ferry + pv; ip and nsenter.
RUN_PKGS=(busybox-static pv iproute2 util-linux)
# Tools the tests and the benchmark drive (real peers and anchors).
TEST_PKGS=(busybox-static crun runc podman golang-github-containers-common containerd conmon util-linux hyperfine iproute2 iperf3 netcat-openbsd rsync openssh-server openssh-client procps time tar bc python3 pv chromium
  docker-registry skopeo umoci zstd python3-jwt python3-cryptography openssl nftables
  docker.io buildah iptables golang-go tcpdump rclone)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
[ "${1:-}" = "--with-test-tools" ] && want+=("${TEST_PKGS[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install packages (run with sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

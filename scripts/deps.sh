#!/usr/bin/env bash
# Installs what roost needs to build and test on Debian 12, if missing.
# Runs apt-get as root (directly, or through sudo when available).
set -euo pipefail

pkgs=(build-essential cmake pkg-config check valgrind libmsgpack-dev libinih-dev libsystemd-dev
      libjansson-dev clang libclang-rt-dev
      # promtool, which checks roostctl metrics' output in check_roostctl
      # (the package also brings a prometheus.service; where systemd runs,
      # Debian starts it: systemctl disable --now prometheus)
      prometheus
      # roostd's [metrics] HTTP endpoint, and check_metrics' scraper and
      # strict OpenMetrics parser (Debian's /usr/bin/python3)
      libmicrohttpd-dev curl python3-prometheus-client
      # the NATS gateway (gateway/) and its tests: real servers, TLS,
      # nkeys and JWTs for a creds file (libcrypto: tests/nats_creds.c)
      nats-server libnats-dev openssl libssl-dev
      # the Python package (python/): built, tested and benched with
      # Debian's /usr/bin/python3 and these
      python3-dev python3-setuptools python3-pip python3-venv python3-pytest
      python3-msgpack python3-pykka)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "roost: missing packages: ${missing[*]}" >&2
	echo "roost: run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "roost: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null

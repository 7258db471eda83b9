#!/usr/bin/env bash
# Makes sure the machine has what the test suite needs that Go cannot fetch:
# PostgreSQL 15+ (the tests run private clusters of it), a JDK (the regex
# oracle) and make. Installs missing Debian packages when run as root;
# otherwise says what to install. OpenFGA is built by the test harness from
# the Go module proxy and cached outside the checkout.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v java >/dev/null 2>&1 || [ -x "${JAVA_HOME:-/nonexistent}/bin/java" ] || need+=(default-jdk-headless)
command -v make >/dev/null 2>&1 || need+=(make)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the tests need: ${need[*]} (apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}"
# The Debian package may start a cluster of its own; the tests run private ones.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true; done
fi

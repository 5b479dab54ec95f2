#!/usr/bin/env bash
# Bring up the real components the test suite needs on a fresh Debian machine (root, no
# container registry). Idempotent: each step checks first and skips what is already there.
#   source .ci/services.sh && ci_up docker      # or: bash .ci/services.sh docker
# Exports SATCHEL_TEST_DOCKER_IMAGE (an offline Python base image) and the UV_* variables that
# make uv use the same package index settings as pip on this machine.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
CI_TMP=${CI_TMP:-/tmp/satchel-ci}
BASE_TAG=${BASE_TAG:-satchel-test/python:3-bookworm}
mkdir -p "$CI_TMP"
log() { printf '[ci %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

apt_ensure() {   # install only the packages that are missing
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq
  log "apt-get install ${missing[*]}"
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

apt_mirror() {   # the Debian mirror configured for the plain 'bookworm' suite
  local m=""
  [ -f /etc/apt/sources.list ] && m=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
  [ -n "$m" ] || m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}')
  [ -n "$m" ] || { echo "no bookworm mirror found in apt sources" >&2; return 1; }
  echo "$m"
}

ensure_docker() {
  command -v dockerd >/dev/null || apt_ensure docker.io
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    setsid dockerd >"$CI_TMP/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$CI_TMP/dockerd.pid"
    local i; for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  docker info >/dev/null
  export DOCKER_BUILDKIT=0   # no buildx on Debian's docker.io: the legacy builder, as the SDK uses
}

ensure_base_image() {   # a real Debian with python3, built offline with debootstrap (~1 min, once)
  docker image inspect "$BASE_TAG" >/dev/null 2>&1 || {
    apt_ensure debootstrap
    local root="$CI_TMP/rootfs" mirror; mirror=$(apt_mirror)
    rm -rf "$root"
    log "debootstrap a python3 base image from $mirror"
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" "$mirror" \
      >"$CI_TMP/debootstrap.log" 2>&1
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
           "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
    mkdir -p "$root/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    tar -C "$root" -c . | docker import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV LANG=C.UTF-8' \
      -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' -c 'CMD ["python3"]' - "$BASE_TAG" >/dev/null
    rm -rf "$root"
  }
  export SATCHEL_TEST_DOCKER_IMAGE="$BASE_TAG"
}

uv_env_from_pip() {   # uv ignores pip.conf: mirror pip's effective index settings into UV_*
  local v
  pipcfg() { python3 -m pip config list 2>/dev/null | sed -n "s/^[a-z:]*\.$1='\(.*\)'\$/\1/p" | head -1; }
  v=${PIP_INDEX_URL:-$(pipcfg index-url)};             if [ -n "$v" ]; then export UV_DEFAULT_INDEX="$v"; fi
  v=${PIP_EXTRA_INDEX_URL:-$(pipcfg extra-index-url)}; if [ -n "$v" ]; then export UV_INDEX="$v"; fi
  v=${PIP_FIND_LINKS:-$(pipcfg find-links)};           if [ -n "$v" ]; then export UV_FIND_LINKS="${v// /,}"; fi
  v=${PIP_CONSTRAINT:-$(pipcfg constraint)};           if [ -n "$v" ]; then export UV_CONSTRAINT="$v"; fi
  if [ -n "${UV_INDEX:-}${UV_FIND_LINKS:-}" ]; then export UV_INDEX_STRATEGY=unsafe-best-match; fi
  if [ -z "${SSL_CERT_FILE:-}" ]; then export UV_NATIVE_TLS=1; fi
  return 0
}

ci_up() {
  local c
  uv_env_from_pip
  for c in "$@"; do
    case $c in
      docker) ensure_docker; ensure_base_image ;;
      git)    command -v git >/dev/null || apt_ensure git ;;
      *) echo "unknown component $c" >&2; return 2 ;;
    esac
  done
}

ci_down() {   # stop only what this script started
  if [ -f "$CI_TMP/dockerd.pid" ]; then
    kill "$(cat "$CI_TMP/dockerd.pid")" 2>/dev/null || true
    rm -f "$CI_TMP/dockerd.pid"
  fi
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then ci_up "$@"; fi

#!/usr/bin/env bash
# Bring up the real components the test suite needs on a fresh Debian machine (root, no
# container registry). Idempotent: each step checks first and skips what is already there.
#   source .ci/services.sh && ci_up git docker postgres ray browser mlflow
#   bash .ci/services.sh postgres          # the same, from a shell
#   ci_down                                # stops only what this script started
# Exports, for the tests:
#   SATCHEL_TEST_DOCKER_IMAGE    an offline Python base image (debootstrap, no registry)
#   SATCHEL_TEST_POSTGRES_URI    a private PostgreSQL cluster (trust auth, 127.0.0.1 only)
#   SATCHEL_TEST_RAY_ADDRESS     a local Ray cluster's dashboard / Jobs API
#   SATCHEL_TEST_RAY_PYTHON      the python of Ray's own virtualenv (pinned ray)
#   SATCHEL_TEST_CHROMIUM        Debian's Chromium, for Playwright
#   SATCHEL_TEST_MLFLOW_PYTHON   the python of a virtualenv holding the pinned mlflow client
# and the UV_* variables that make uv use the same package index settings as pip here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
CI_TMP=${CI_TMP:-/tmp/satchel-ci}
BASE_TAG=${BASE_TAG:-satchel-test/python:3-bookworm}
PG_PORT=${PG_PORT:-55432}
RAY_GCS_PORT=${RAY_GCS_PORT:-6390}
RAY_DASH_PORT=${RAY_DASH_PORT:-8275}
RAY_SPEC=${RAY_SPEC:-ray[default,tune]==2.60.0}
MLFLOW_SPEC=${MLFLOW_SPEC:-mlflow==3.17.2 mlflow-skinny==3.17.2 scikit-learn pandas}
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

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

ensure_postgres() {   # a private cluster in $CI_TMP/pg; the machine's own clusters are left alone
  local bin d="$CI_TMP/pg"
  [ -n "$(pg_bin)" ] || apt_ensure postgresql
  bin=$(pg_bin)
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    mkdir -p "$d"; chown postgres:postgres "$d"
    [ -f "$d/data/PG_VERSION" ] ||
      su postgres -c "$bin/initdb -D $d/data -U postgres -A trust -E UTF8 --no-locale" >"$CI_TMP/initdb.log"
    log "starting postgres on 127.0.0.1:$PG_PORT"
    su postgres -c "$bin/pg_ctl -D $d/data -l $d/pg.log -w -t 60 -o '-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c max_connections=300' start" >/dev/null
    touch "$CI_TMP/pg.started"
  fi
  export SATCHEL_TEST_POSTGRES_URI="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  export SATCHEL_TEST_PG_CTL="$bin/pg_ctl" SATCHEL_TEST_PG_DATA="$d/data"
}

venv_with() {   # venv_with DIR IMPORTS SPEC...: a virtualenv holding SPEC, made once
  local dir=$1 imports=$2; shift 2
  [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "import $imports" 2>/dev/null && return 0
  log "virtualenv $dir: $*"
  rm -rf "$dir"; python3 -m venv "$dir"
  "$dir/bin/pip" install -q "$@" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; return 1; }
}

ensure_ray() {   # a local Ray cluster on private ports and temp dir
  venv_with "$CI_TMP/rayvenv" "ray, ray.tune" $RAY_SPEC
  export RAY_USAGE_STATS_ENABLED=0
  if ! python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$RAY_DASH_PORT/api/version', timeout=2)" 2>/dev/null; then
    log "ray start --head (dashboard 127.0.0.1:$RAY_DASH_PORT)"
    "$CI_TMP/rayvenv/bin/ray" start --head --port="$RAY_GCS_PORT" --dashboard-host=127.0.0.1 \
      --dashboard-port="$RAY_DASH_PORT" --include-dashboard=true --num-cpus="$(nproc)" \
      --disable-usage-stats --temp-dir="$CI_TMP/ray" >"$CI_TMP/ray-start.log" 2>&1 ||
      { cat "$CI_TMP/ray-start.log" >&2; return 1; }
    touch "$CI_TMP/ray.started"
  fi
  export SATCHEL_TEST_RAY_ADDRESS="http://127.0.0.1:$RAY_DASH_PORT"
  export SATCHEL_TEST_RAY_PYTHON="$CI_TMP/rayvenv/bin/python"
}

ensure_browser() {
  command -v chromium >/dev/null || apt_ensure chromium
  export SATCHEL_TEST_CHROMIUM
  SATCHEL_TEST_CHROMIUM=$(command -v chromium)
}

ensure_mlflow() {   # the real mlflow client, pinned, in its own virtualenv
  venv_with "$CI_TMP/mlflow-venv" "mlflow, sklearn, pandas" $MLFLOW_SPEC
  export SATCHEL_TEST_MLFLOW_PYTHON="$CI_TMP/mlflow-venv/bin/python"
}

ci_up() {   # apt packages first (one dpkg at a time), then the slow builds side by side
  local c pkgs=() jobs=() want=" $* "
  uv_env_from_pip
  case $want in *" git "*) command -v git >/dev/null || pkgs+=(git) ;; esac
  case $want in *" docker "*) command -v dockerd >/dev/null || pkgs+=(docker.io)
                               docker image inspect "$BASE_TAG" >/dev/null 2>&1 || pkgs+=(debootstrap) ;; esac
  case $want in *" postgres "*) [ -n "$(pg_bin)" ] || pkgs+=(postgresql) ;; esac
  case $want in *" browser "*) command -v chromium >/dev/null || pkgs+=(chromium) ;; esac
  [ ${#pkgs[@]} -eq 0 ] || apt_ensure "${pkgs[@]}"
  for c in "$@"; do
    case $c in
      docker) ensure_docker; ensure_base_image & jobs+=($!) ;;
      ray)    ensure_ray & jobs+=($!) ;;
      mlflow) ensure_mlflow & jobs+=($!) ;;
      git|postgres|browser) ;;
      *) echo "unknown component $c" >&2; return 2 ;;
    esac
  done
  for c in "${jobs[@]}"; do wait "$c"; done
  # Each ensure_* is idempotent: run again in this shell for its exports (instant now).
  for c in "$@"; do
    case $c in
      docker) ensure_docker; ensure_base_image ;;
      postgres) ensure_postgres ;;
      ray) ensure_ray ;;
      browser) ensure_browser ;;
      mlflow) ensure_mlflow ;;
    esac
  done
}

ci_down() {   # stop only what this script started
  if [ -f "$CI_TMP/ray.started" ]; then   # by its own temp dir: `ray stop` stops every Ray here
    pkill -f -- "$CI_TMP/ray/" 2>/dev/null || true
    rm -f "$CI_TMP/ray.started"
  fi
  if [ -f "$CI_TMP/pg.started" ]; then
    su postgres -c "$(pg_bin)/pg_ctl -D $CI_TMP/pg/data -m fast -w stop" >/dev/null 2>&1 || true
    rm -f "$CI_TMP/pg.started"
  fi
  if [ -f "$CI_TMP/dockerd.pid" ]; then
    kill "$(cat "$CI_TMP/dockerd.pid")" 2>/dev/null || true
    rm -f "$CI_TMP/dockerd.pid"
  fi
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then ci_up "$@"; fi

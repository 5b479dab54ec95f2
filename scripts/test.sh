#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine or a developer's: installs and starts what the
# tests need (git, a docker engine and an offline Python base image, a private PostgreSQL, a local
# Ray cluster, Chromium, the pinned mlflow client in its own virtualenv; see .ci/services.sh),
# a virtualenv with Satchel and its test dependencies, then runs pytest. Extra arguments go to
# pytest:
#   bash scripts/test.sh -k fetch -x
# Services it starts keep running afterwards so the next run starts at once; stop them with
#   bash -c 'source .ci/services.sh && ci_down'
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${SATCHEL_TEST_VENV:-.venv-test}
install_venv() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -e '.[test]' 2>&1 | { grep -v '^WARNING: Location' || true; }
}
install_venv &   # side by side with the services below
venv_job=$!

source .ci/services.sh
ci_up git docker postgres ray browser mlflow
wait "$venv_job"

# One uv cache for the whole session so each wheel is downloaded once.
export UV_CACHE_DIR=${UV_CACHE_DIR:-$CI_TMP/uv-cache}
"$VENV/bin/python" -m pytest "$@"

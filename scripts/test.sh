#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine or a developer's: installs what the tests
# need (a docker engine and an offline Python base image, git), a virtualenv with Satchel and
# its test dependencies, then runs pytest. Extra arguments go to pytest:
#   bash scripts/test.sh -k fetch -x
set -euo pipefail
cd "$(dirname "$0")/.."

source .ci/services.sh
ci_up git docker

VENV=${SATCHEL_TEST_VENV:-.venv-test}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -e '.[test]' 2>&1 | { grep -v '^WARNING: Location' || true; }

# One uv cache for the whole session so each wheel is downloaded once.
export UV_CACHE_DIR=${UV_CACHE_DIR:-$CI_TMP/uv-cache}
"$VENV/bin/python" -m pytest "$@"

#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run the whole test suite twice:
# on the oldest Python oralhist supports (3.11) and on the newest one this machine has (pyenv's
# 3.13 here), each in its own virtual environment with the newest releases pip resolves —
# what a new user gets. Usage: bash scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# A real browser for the web pages (Debian's chromium; Playwright drives it) and a real
# PostgreSQL server for the DATABASE_URL tests (each test run starts its own throwaway cluster).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi

# An interpreter that really runs (a pyenv shim for a version that is not selected does not).
find_python() {
  local v=$1 c
  for c in "python$v" "$HOME/.pyenv/versions/$v"*/bin/"python$v" "/usr/local/bin/python$v" "/usr/bin/python$v"; do
    if [ -x "$(command -v "$c" 2>/dev/null || echo "$c")" ] && "$c" -c 'import sys' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}
OLDEST=$(find_python 3.11 || command -v python3)
NEWEST=""
for v in 3.14 3.13 3.12; do NEWEST=$(find_python "$v") && break; done

run_suite() {  # python venv-folder [pytest args]
  local py=$1 venv=$2; shift 2
  echo "== tests on $("$py" --version) ($venv)"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e '.[test,postgres]'
  "$venv/bin/python" -m pytest "$@"
}

run_suite "$OLDEST" .venv "$@"
if [ -n "$NEWEST" ] && [ "$("$NEWEST" -c 'import sys; print(sys.version_info[:2])')" != "$("$OLDEST" -c 'import sys; print(sys.version_info[:2])')" ]; then
  run_suite "$NEWEST" .venv-newest "$@"
fi

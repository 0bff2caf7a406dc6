#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run the whole test suite on the
# oldest Python oralhist supports (3.11), in its own virtual environment with the newest releases
# the ranges allow (what a new user gets; installed with uv), spread over the cores with pytest-xdist (one worker per
# core; each file stays on one worker) and the 20 slowest tests listed at the end.
# CI_FULL=1 also runs the whole suite on the newest Python this machine has (pyenv's 3.13 here),
# in a second virtual environment, after the first: on 2 cores the two runs do not fit side by side.
# Usage: bash scripts/test.sh [pytest arguments]     (-n 0 or -p no:xdist: one process)
#        CI_FULL=1 bash scripts/test.sh               (both Pythons; the exit code is the first failure's)
set -euo pipefail
cd "$(dirname "$0")/.."

# A real browser for the web pages (Debian's chromium; Playwright drives it) and a real
# PostgreSQL server for the DATABASE_URL tests (each test run starts its own throwaway cluster).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v ip >/dev/null 2>&1 || need+=(iproute2)  # `ip netns`: the outage tests' network namespaces (root)
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

# One xdist worker per core plus one, unless the caller chose (TEST_WORKERS=N, -n N, -p no:xdist):
# about a quarter of a run is spent waiting (browsers, worker processes, the outage tests' cut
# links), and the extra worker fills it. --durations=20 unless given.
defaults=(-n "${TEST_WORKERS:-$(( $(nproc) + 1 ))}" --dist loadfile)
for a in "$@"; do
  case "$a" in -n|-n[0-9]*|--numprocesses*|no:xdist|-pno:xdist) defaults=() ;; esac
done
case " $* " in *" --durations"*) ;; *) defaults+=(--durations=20) ;; esac

run_suite() {  # python venv-folder [pytest args]
  local py=$1 venv=$2; shift 2
  echo "== tests on $("$py" --version) ($venv)"
  # (errexit is off inside `run_suite ... || rc=$?`) A venv another Python made (the demo's, say) is made
  # again: `venv` over it would keep the other interpreter as bin/python and mix the two.
  local clear=()
  [ -e "$venv" ] && [ "$("$venv/bin/python" -c 'import sys; print(sys.version_info[:2])' 2>/dev/null)" != \
    "$("$py" -c 'import sys; print(sys.version_info[:2])')" ] && clear=(--clear)
  "$py" -m venv "${clear[@]}" "$venv" || exit $?
  # uv (from PyPI) resolves like pip (the newest releases pyproject.toml's ranges allow: the same
  # versions, checked with `pip freeze` on both) and installs them in about 30 s where pip took
  # 1.5-3 minutes; --compile-bytecode writes the .pyc files once, as pip does.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check uv || exit $?
  "$venv/bin/uv" pip install -q --compile-bytecode --python "$venv/bin/python" -e '.[test,postgres]' || exit $?
  "$venv/bin/python" -m pytest "${defaults[@]}" "$@"
}

rc=0
run_suite "$OLDEST" .venv "$@" || rc=$?
if [ "${CI_FULL:-0}" = 1 ] && [ -n "$NEWEST" ] && [ "$("$NEWEST" -c 'import sys; print(sys.version_info[:2])')" != "$("$OLDEST" -c 'import sys; print(sys.version_info[:2])')" ]; then
  rc2=0
  run_suite "$NEWEST" .venv-newest "$@" || rc2=$?
  [ "$rc" != 0 ] || rc=$rc2
fi
exit "$rc"

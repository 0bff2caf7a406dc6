#!/usr/bin/env bash
# Install oralhist and run every stage on the bundled sample interview, ending with the
# published site in demo/site/. Usage: bash scripts/demo.sh [archive folder, default demo]
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHIVE="${1:-demo}"

# a .venv made by another Python (the test command's 3.11, say) is made again, not mixed with this one
ver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
if [ -e .venv ] && [ "$(ver .venv/bin/python)" != "$(ver python3)" ]; then python3 -m venv --clear .venv; else python3 -m venv .venv; fi
.venv/bin/pip install -q --upgrade pip
# The exact releases the project was last checked with (requirements/lock.txt, made by uv from
# pyproject's ranges for Python 3.11-3.13); the tests run on the newest releases instead.
.venv/bin/pip install -q -c requirements/lock.txt -e .
.venv/bin/oralhist init "$ARCHIVE" --title "Mémoires du travail — démonstration"
.venv/bin/oralhist --workspace "$ARCHIVE" run --manifest interviews/manifest.csv --allow-outside

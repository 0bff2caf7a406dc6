#!/usr/bin/env bash
# Install oralhist and run every stage on the bundled sample interview, ending with the
# published site in demo/site/. Usage: bash scripts/demo.sh [archive folder, default demo]
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHIVE="${1:-demo}"

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# The exact releases the project was last checked with (requirements/lock.txt, made by uv from
# pyproject's ranges for Python 3.11-3.13); the tests run on the newest releases instead.
.venv/bin/pip install -q -c requirements/lock.txt -e .
.venv/bin/oralhist init "$ARCHIVE" --title "Mémoires du travail — démonstration"
.venv/bin/oralhist --workspace "$ARCHIVE" run --manifest interviews/manifest.csv --allow-outside

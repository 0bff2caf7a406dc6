#!/usr/bin/env bash
# Install oralhist and run every stage on the bundled sample interview, ending with the
# published site in demo/site/. Usage: bash scripts/demo.sh [archive folder, default demo]
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHIVE="${1:-demo}"

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e .
.venv/bin/oralhist init "$ARCHIVE" --title "Mémoires du travail — démonstration"
.venv/bin/oralhist --workspace "$ARCHIVE" run --manifest interviews/manifest.csv

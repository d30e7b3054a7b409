#!/usr/bin/env bash
# The checks that hold the line: formatting, lint, types and the import rules (settings in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ruff format --check .
ruff check .
mypy
lint-imports

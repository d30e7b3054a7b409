#!/usr/bin/env bash
# Install what the tests need, check formatting, lint and types, then run the whole suite.
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not slow"` for a quicker loop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
scripts/lint.sh
. scripts/venv.sh
python -m pytest "$@"

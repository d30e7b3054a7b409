#!/usr/bin/env bash
# Install what the tests need, then run the whole suite. Extra arguments go to pytest,
# e.g. `scripts/test.sh -m "not slow"` for a quick edit-test loop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
. scripts/venv.sh
python -m pytest "$@"

#!/usr/bin/env bash
# Install voxprint and everything it needs on a fresh Debian-based machine (as root, or with sudo).
#   scripts/install.sh          the service, clients and rasterizer
#   scripts/install.sh --test   plus what the test suite needs (flite, PostgreSQL, pytest, moto, ...)
# Python packages go into the active virtual environment, or into .venv in the checkout (see
# scripts/venv.sh); afterwards `. .venv/bin/activate` puts voxprint and voxprint-server on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

# Symbola: the monochrome emoji font the offline illustrator falls back to; DejaVu for captions.
# For the tests: flite speaks the test recordings, PostgreSQL's server runs the scale-out tests.
packages=(fonts-symbola fonts-dejavu-core)
$with_tests && packages+=(flite postgresql)
apt_install "${packages[@]}"

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install --quiet --upgrade pip
if $with_tests; then
  python -m pip install --quiet -e ".[postgres,s3,test]"
else
  python -m pip install --quiet -e ".[postgres,s3]"
fi
python -c "import rasterizer; print('voxprint installed in $VOXPRINT_VENV; rasterizer:', rasterizer.implementation)"

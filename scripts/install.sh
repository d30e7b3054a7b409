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

# The offline illustrator reads words through CLDR's emoji keywords and WordNet, renders OpenMoji's
# SVG line art with cairo, and sets captions in DejaVu. For the tests: flite and espeak-ng speak
# the test recordings, sox mixes noise into some, PostgreSQL's server runs the scale-out tests,
# openssl makes the TLS tests' certificates.
# The Cython rasterizer is compiled at install time: a C compiler and Python's headers.
packages=(gcc libc6-dev python3-dev fonts-dejavu-core unicode-cldr-core wordnet-base libcairo2)
$with_tests && packages+=(flite espeak-ng sox postgresql openssl)
apt_install "${packages[@]}"

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install --quiet --upgrade pip
if $with_tests; then
  python -m pip install --quiet -e ".[postgres,s3,test]"
else
  python -m pip install --quiet -e ".[postgres,s3]"
fi
python -c "from voxprint import rasterizer; print('voxprint installed in $VOXPRINT_VENV; rasterizer:', rasterizer.implementation)"

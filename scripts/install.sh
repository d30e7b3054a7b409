#!/usr/bin/env bash
# Install voxprint and everything it needs on a fresh Debian-based machine.
#   scripts/install.sh          the service, clients and rasterizer
#   scripts/install.sh --test   plus what the test suite needs (flite, pytest, hypothesis)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Symbola: the monochrome emoji font the offline illustrator draws with; DejaVu for captions;
# flite speaks the test recordings.
packages=(fonts-symbola fonts-dejavu-core)
$with_tests && packages+=(flite)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip install --quiet --upgrade pip
if $with_tests; then
  python3 -m pip install --quiet -e ".[test]"
else
  python3 -m pip install --quiet -e .
fi
python3 -c "import rasterizer; print('voxprint installed; rasterizer:', rasterizer.implementation)"

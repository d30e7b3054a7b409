# Sourced by the other scripts: choose the Python environment voxprint is installed into and run from.
#
# An active virtual environment ($VIRTUAL_ENV) is used as it is. Otherwise the checkout's own .venv
# is used, and created first if it is missing: Debian's system Python refuses `pip install`
# (PEP 668, "externally-managed-environment"). When `python3 -m venv` cannot work because Debian
# splits ensurepip into the python3-venv package, that package is installed first.
# Afterwards VOXPRINT_VENV names the environment and its bin/ leads PATH.

voxprint_root=${VOXPRINT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

if [ -n "${VIRTUAL_ENV:-}" ]; then
  VOXPRINT_VENV=$VIRTUAL_ENV
else
  VOXPRINT_VENV=$voxprint_root/.venv
  if [ ! -x "$VOXPRINT_VENV/bin/python" ]; then
    python3 -c "import ensurepip, venv" 2>/dev/null || apt_install python3-venv
    echo "creating the virtual environment $VOXPRINT_VENV" >&2
    python3 -m venv "$VOXPRINT_VENV"
  fi
fi
export VOXPRINT_VENV PATH="$VOXPRINT_VENV/bin:$PATH"

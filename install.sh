#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine (run as root, or with sudo available).
#   bash install.sh          system libraries for headless rendering + the Python packages
#   bash install.sh --test   ... plus what the tests need (pytest, Playwright + Debian's chromium, ffmpeg)
set -euo pipefail
cd "$(dirname "$0")"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"

apt_pkgs=$(grep -vE '^\s*(#|$)' packages.txt | tr '\n' ' ')
[ "$want_test" = 1 ] && apt_pkgs="$apt_pkgs chromium ffmpeg"
if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $apt_pkgs >/dev/null
else
  echo "install.sh: no apt-get here; install these system packages yourself: $apt_pkgs" >&2
fi

python3 -m pip install -q --disable-pip-version-check -r requirements.txt
[ "$want_test" = 1 ] && python3 -m pip install -q --disable-pip-version-check -r requirements-test.txt
echo "install.sh: done"

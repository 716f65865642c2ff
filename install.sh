#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine (run as root, or with sudo available).
#   bash install.sh          system libraries for headless rendering, then a project virtual environment
#                            (.venv) holding the Python packages and this project (`sora-lite`, `sora-lite-eval`)
#   bash install.sh --test   ... plus what the tests need (pytest, Playwright + Debian's chromium, ffmpeg)
# The venv is what makes this work with Debian's / Ubuntu's own python3, which refuses `pip install` into
# the system (PEP 668, "externally-managed-environment"); run things with .venv/bin/python or .venv/bin/sora-lite.
# SORA_LITE_VENV names another folder; SORA_LITE_PYTHON another interpreter to build it from (default python3).
set -euo pipefail
cd "$(dirname "$0")"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"

# python3-venv: Debian's python3 has no ensurepip without it, so `python3 -m venv` would fail.
apt_pkgs="python3 python3-venv $(grep -vE '^\s*(#|$)' packages.txt | tr '\n' ' ')"
[ "$want_test" = 1 ] && apt_pkgs="$apt_pkgs chromium ffmpeg"
if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $apt_pkgs >/dev/null
else
  echo "install.sh: no apt-get here; install these system packages yourself: $apt_pkgs" >&2
fi

venv="${SORA_LITE_VENV:-.venv}"
# The environment takes about 8 GB (PyTorch's CUDA build alone ~5.5 GB) plus room to unpack wheels; pip's own
# error for a full disk ("[Errno 28] No space left on device") does not say that, so say it first.
free_kb=$(df -Pk "$(dirname "$venv")" 2>/dev/null | awk 'NR==2 {print $4}')
if [ -n "$free_kb" ] && [ "$free_kb" -lt $((9 * 1024 * 1024)) ]; then
  echo "install.sh: only $((free_kb / 1024 / 1024)) GB free where $venv goes; the Python environment needs about" \
       "8 GB (PyTorch alone ~5.5 GB). Free some space, or set SORA_LITE_VENV to a folder on a larger disk." >&2
fi
if [ ! -x "$venv/bin/python" ]; then
  "${SORA_LITE_PYTHON:-python3}" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# pip's own configuration (pip.conf, PIP_* variables: find-links, extra indexes, constraints) applies inside
# the venv as well, so wheels kept on the machine (torch) are still taken from there.
"${pip[@]}" -r requirements.txt
"${pip[@]}" --no-deps -e .   # the console scripts; the packages stay importable from this checkout
[ "$want_test" = 1 ] && "${pip[@]}" -r requirements-test.txt
# Bytecode for this checkout, as pip writes it for installed packages: a command's start then reads .pyc files
# instead of compiling ~150 modules each time (which it would, for ever, where PYTHONDONTWRITEBYTECODE is set).
"$venv/bin/python" -m compileall -q -j 0 sora_lite eval >/dev/null
# This machine's caches (~1 min once): compiled rules and word lists, the classifiers' example embeddings, the
# voice's phoneme timings; without it the first clip of each kind pays for them (~7 s English, ~30 s more other).
"$venv/bin/python" -m sora_lite prepare || echo "install.sh: the caches were not prepared; the first clips will fill them" >&2
echo "install.sh: done; Python is $venv/bin/python"

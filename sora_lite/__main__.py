"""`python -m sora_lite ...` — see `sora_lite/cli.py`."""

from sora_lite.cli import run

run()

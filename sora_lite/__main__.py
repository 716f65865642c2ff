"""`python -m sora_lite ...` — see `sora_lite/cli.py`."""

import sys

from sora_lite.cli import main

sys.exit(main())

"""Moved to `sora_lite.common.sound` (shared by the world and Hub engines); this name keeps working.

The module object is the same one, so `sound.SAMPLE_RATE` and patches of its attributes reach the synthesis.
"""

import sys

from sora_lite.common import sound as _sound

sys.modules[__name__] = _sound

"""Loading our local-only models must not switch the whole process offline: on a Space the Hub engine still
needs to download weights after the moderation models have loaded."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import os, numpy as np
os.environ.pop("HF_HUB_OFFLINE", None)
from sora_lite.safety import moderate_output, moderate_prompt
moderate_prompt("a red ball bounces on a wooden floor")
moderate_output(np.zeros((2, 64, 64, 3), np.uint8), detect_faces=False)
print("offline:", os.environ.get("HF_HUB_OFFLINE"))
"""


@pytest.mark.slow
def test_moderation_leaves_hf_hub_offline_alone() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    res = subprocess.run([sys.executable, "-c", SCRIPT], cwd=Path(__file__).resolve().parents[1], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "offline: None" in res.stdout

"""The horizon control for image-to-video (issue 14): the library's estimate is the app's slider default, 0 means
"estimate it", a set value reaches the engine, and a bad value gets one clear error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PIL import Image

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).parent))

from test_world_i2v import photo  # noqa: E402

from sora_lite.engines.base import RequestError  # noqa: E402
from sora_lite.engines.world.still import estimate_horizon, horizon_options  # noqa: E402


def test_the_estimate_reads_a_file_of_any_shape(tmp_path) -> None:
    for (h, w), row in (((300, 500), 0.38), ((480, 320), 0.62)):
        Image.fromarray(photo(h, w, horizon=row)).save(tmp_path / "still.png")
        assert abs(estimate_horizon(str(tmp_path / "still.png")) - row) <= 0.03
    assert abs(estimate_horizon(photo(horizon=0.5)) - 0.5) <= 0.03
    with pytest.raises(RequestError, match="could not read the image"):
        estimate_horizon(str(tmp_path / "missing.png"))


def test_zero_means_estimate_and_a_set_value_is_passed_on() -> None:
    assert horizon_options(None) == {} and horizon_options(0) == {}
    assert horizon_options(0.55) == {"horizon": 0.55}
    with pytest.raises(RequestError, match="horizon"):
        horizon_options(1.5)


@pytest.mark.slow
def test_the_apps_slider_sets_the_engines_horizon(tmp_path_factory) -> None:
    pytest.importorskip("gradio_client")
    from app_server import served_app
    from gradio_client import Client, handle_file

    home = tmp_path_factory.mktemp("home")
    still = tmp_path_factory.mktemp("still") / "still.png"
    Image.fromarray(photo(128, 128)).save(still)
    with served_app(home) as (demo, _):
        client = Client(demo.local_url, verbose=False)
        args = ["a blue ball rolls across the table", handle_file(str(still)), "world", 1, "128x128", 8, 0, False, ""]
        _, by_hand, _ = client.predict(*args, 0.6, api_name="/generate")
        _, automatic, _ = client.predict(*args, api_name="/generate")  # an older client: the slider's default, 0
    notes = lambda rec: " ".join(n for d in rec["info"]["framing"] for n in d.get("notes", []))  # noqa: E731
    assert "horizon at 60% of the height (set by the user)" in notes(by_hand)
    assert "horizon at 38% of the height (estimated" in notes(automatic)

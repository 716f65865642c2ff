"""The lowest layer's shared words: one size reading, one storyboard validator, the lazy engine registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sora_lite.common.errors import RequestError
from sora_lite.common.request import GenerationRequest, parse_size
from sora_lite.common.storyboard import MAX_SHOTS, check_shots, shot_seconds

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text,size", [("256", (256, 256)), ("512x288", (512, 288)), (" 320 × 240 ", (320, 240)),
                                        ("640X360", (640, 360)), (128, (128, 128))])
def test_parse_size_reads_n_and_wxh(text: object, size: tuple[int, int]) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "big", "1x2x3", "x5", "5x", "2.5x3"])
def test_parse_size_refuses_the_rest_in_one_message(text: str) -> None:
    with pytest.raises(RequestError, match="N or WxH"):
        parse_size(text)


def test_every_door_reads_sizes_the_same_way() -> None:
    import argparse

    from eval.run import _size as eval_size
    from sora_lite.cli import _parse_size as cli_size

    assert eval_size("320x240") == cli_size("320x240") == parse_size("320x240")
    for door in (eval_size, cli_size):
        with pytest.raises(argparse.ArgumentTypeError, match="N or WxH"):
            door("1x2x3")


def test_check_shots_names_the_shot_and_the_problem() -> None:
    check_shots([{"prompt": "a ball", "camera": "orbit", "seconds": 0.2}, {"prompt": "it rolls"}])
    for shots, words in [([], "non-empty"), ([{"prompt": "x"}] * (MAX_SHOTS + 1), "at most"),
                         (["a ball"], "shot 1 must be an object"), ([{"prompt": "a", "lens": 3}], "unknown keys"),
                         ([{"prompt": "a"}, {"prompt": "b", "seconds": "soon"}], "shot 2: seconds"),
                         ([{"prompt": "a", "seconds": 0}], "above 0"), ([{"prompt": "a", "seconds": 21}], "at most 20"),
                         ([{"prompt": 5}], "must be text")]:
        with pytest.raises(RequestError, match=words):
            check_shots(shots)


def test_requests_use_the_storyboard_validator() -> None:
    with pytest.raises(RequestError, match="unknown keys"):
        GenerationRequest(prompt="a ball", shots=[{"prompt": "a ball", "lens": 35}]).validate()


def test_shot_seconds_is_what_a_person_may_type() -> None:
    assert shot_seconds(None) == shot_seconds("  ") == 2.0
    assert shot_seconds("1.5", 0) == 1.5
    with pytest.raises(RequestError, match="shot 3: a shot lasts at least 0.5"):
        shot_seconds(0.2, 2)
    with pytest.raises(RequestError, match="at most 20"):
        shot_seconds(25)
    with pytest.raises(RequestError, match="must be a number"):
        shot_seconds("soon")


@pytest.mark.slow
def test_importing_the_registry_or_the_hub_foley_loads_no_engine() -> None:
    code = ("import sys; import sora_lite.engines, sora_lite.engines.hub.foley, sora_lite.studio; "
            "print(sorted(m for m in ('sora_lite.engines.world', 'mujoco', 'triton') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_a_registered_path_is_resolved_on_first_use() -> None:
    from sora_lite.engines import base

    base.register_engine("path-engine", "fake_engine:FakeEngine")
    try:
        sys.modules.pop("fake_engine", None)
        engine = base.get_engine("path-engine")
        assert type(engine).__name__ == "FakeEngine" and "path-engine" in base.list_engines()
    finally:
        base._FACTORIES.pop("path-engine", None)
        base._INSTANCES.pop("path-engine", None)

"""A metric's settings come from its registry entry: `--metric-args name.key=value`, older flags as aliases."""

from __future__ import annotations

import pytest

from eval.run import build_parser, config_from_args
from eval.scoring import SCORERS, ScorerOptions, metric_options, parse_metric_args


def test_metric_args_reach_the_scorer() -> None:
    config = config_from_args(build_parser().parse_args(
        ["--metric-args", "clip.protocol=vbench,fvd.resample=false", "--metric-args", "av_sync_learned.model=/w.pth"]))
    assert config.metric_args == {"clip": {"protocol": "vbench"}, "fvd": {"resample": False},
                                  "av_sync_learned": {"model": "/w.pth"}}
    options = config.scorer_options()
    assert SCORERS["clip"](options).protocol.name == "vbench"
    assert SCORERS["av_sync_learned"](options).args == {"model": "/w.pth"}
    assert SCORERS["fvd"](options).args["protocol"] == "sora-lite"  # the registry's default


def test_the_older_flags_are_aliases_generated_from_the_registry() -> None:
    config = config_from_args(build_parser().parse_args(
        ["--fvd-protocol", "cd-fvd", "--no-fvd-resample", "--vlm-judge", "some/vlm", "--clip-model", "ViT-L-14"]))
    assert config.metric_args == {"fvd": {"protocol": "cd-fvd", "resample": False},
                                  "physics_vlm": {"judge": "some/vlm"}, "clip": {"model": "ViT-L-14"}}
    assert (config.fvd_protocol, config.fvd_resample, config.vlm_judge) == ("cd-fvd", False, "some/vlm")
    flags = {o.flag for name in SCORERS for o in metric_options(name).values() if o.flag}
    assert {"--clip-protocol", "--fvd-model", "--sync-model", "--vlm-judge", "--no-fvd-resample"} <= flags


def test_older_keyword_settings_still_build_scorers() -> None:
    options = ScorerOptions(fvd_protocol="stylegan-v", clip_pretrained="x.bin")
    assert options.metric_args == {"fvd": {"protocol": "stylegan-v"}, "clip": {"pretrained": "x.bin"}}
    assert options.fvd_protocol == "stylegan-v" and options.sync_model is None
    with pytest.raises(TypeError, match="unknown scorer option"):
        ScorerOptions(fvd_colour="red")


@pytest.mark.parametrize("text,words", [("clip.protocol", "metric.key=value"), ("nope.x=1", "unknown metric"),
                                        ("clip.nope=1", "no setting 'nope'"), ("clip.protocol=zz", "must be one of"),
                                        ("fvd.resample=maybe", "true or false")])
def test_a_wrong_metric_arg_is_one_clear_error(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_metric_args(text)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--metric-args", text])

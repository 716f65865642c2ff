"""The command line door: a clip with sound from a prompt, and clear failures with a non-zero exit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SORA_LITE_HOME": str(home), "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    return subprocess.run([sys.executable, "-m", "sora_lite", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_generate_writes_mp4_with_sound_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    res = run_cli("generate", "a red rubber ball dropped from 1 metre onto a wooden floor", "--out", str(out),
                  "--seconds", "1.5", "--size", "128", "--fps", "12", "--truth", "--quiet", home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stdout and "audio=simulated contacts" in res.stdout
    with av.open(str(out)) as container:
        kinds = {s.type for s in container.streams}
        assert kinds == {"video", "audio"}
        v = container.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (128, 128)
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    assert truth["contacts"], "a dropped ball must record its contact with the floor"


@pytest.mark.slow
def test_spec_file_and_storyboard_file(tmp_path: Path) -> None:
    spec = {"objects": [{"shape": "cube", "color": "blue", "material": "wood", "height": 0.5}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    res = run_cli("generate", "--spec", str(tmp_path / "spec.json"), "--out", str(tmp_path / "a.mp4"),
                  "--seconds", "1", "--size", "128", "--fps", "8", "--quiet", home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    shots = [{"prompt": "a green ball rolls to the right", "seconds": 1}, {"prompt": "close-up", "camera": "orbit", "seconds": 1}]
    (tmp_path / "shots.json").write_text(json.dumps(shots))
    res = run_cli("generate", "--shots", str(tmp_path / "shots.json"), "--out", str(tmp_path / "b.mp4"),
                  "--seconds", "2", "--size", "128", "--fps", "8", "--quiet", home=tmp_path / "home")
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "", "--size", "128"], "prompt is empty"),
        (["generate", "a ball", "--size", "4096"], "width must be"),
        (["generate", "a ball", "--size", "big"], "size must be"),
        (["generate", "a ball", "--fps", "500"], "fps must be"),
        (["generate", "a ball", "--seconds", "0"], "duration must be"),
        (["generate", "a ball", "--seconds", "600"], "duration must be"),
        (["generate", "a ball", "--out", "clip.gif"], "--out must end in .mp4"),
        (["generate", "a ball", "--spec", "/nonexistent/spec.json"], "does not exist"),
        (["generate", "a ball", "--image", "/nonexistent.png"], "does not exist"),
        (["generate", "a ball", "--engine", "nope"], "unknown engine"),
    ],
)
@pytest.mark.slow
def test_bad_arguments_fail_clearly(tmp_path: Path, args: list[str], message: str) -> None:
    res = run_cli(*args, "--quiet", home=tmp_path / "home") if "--quiet" not in args else run_cli(*args, home=tmp_path)
    assert res.returncode != 0
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not list(tmp_path.glob("*.mp4"))


@pytest.mark.slow
def test_bad_spec_json_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text('{"objects": [{"shape": "dragon"}]}')
    res = run_cli("generate", "--spec", str(tmp_path / "spec.json"), "--out", str(tmp_path / "a.mp4"), "--quiet",
                  home=tmp_path / "home")
    assert res.returncode == 2
    assert "objects[0].shape" in res.stderr and "dragon" in res.stderr
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.slow
def test_blocked_prompt_writes_no_file_and_is_logged(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    home = tmp_path / "home"
    res = run_cli("generate", "a graphic beheading with gore everywhere", "--out", str(out), "--size", "128",
                  "--seconds", "1", "--quiet", home=home)
    assert res.returncode == 2
    assert "blocked by the content policy (violence)" in res.stderr
    assert not out.exists()
    assert not list((home / "clips").glob("*.mp4"))
    import sqlite3

    with sqlite3.connect(home / "sora_lite.db") as db:
        rows = db.execute("select stage, verdict from moderation_decisions").fetchall()
    assert rows == [("prompt", "block")]


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "", "--size", "128"], "prompt is empty"),
        (["generate", "a ball", "--size", "4096"], "width must be"),
        (["generate", "a ball", "--fps", "500"], "fps must be"),
        (["generate", "a ball", "--seconds", "0"], "duration must be"),
        (["generate", "a ball", "--out", "clip.gif"], "--out must end in .mp4"),
        (["generate", "a ball", "--spec", "/nonexistent/spec.json"], "does not exist"),
        (["generate", "a ball", "--image", "/nonexistent.png"], "does not exist"),
    ],
)
def test_bad_arguments_fail_clearly_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str], args: list[str],
                                               message: str) -> None:
    """Quick tier: the same refusals through `cli.main`, without starting an interpreter per case."""
    from sora_lite.cli import main

    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.mp4"))


def test_size_that_is_not_a_number_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    from sora_lite.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["generate", "a ball", "--size", "big"])
    assert exit_.value.code == 2 and "size must be" in capsys.readouterr().err

"""The CLI's start-up shortcuts (issue 15): the language helper starts for `generate` only and never changes
what the CLI does with its arguments; nothing slow runs at import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sora_lite import cli
from sora_lite.safety import language


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(language, "prefetch", lambda texts: calls.append(list(texts)) or True)
    return calls


def test_generate_starts_the_language_helper_with_every_prompt(started: list[list[str]], tmp_path: Path) -> None:
    shots = tmp_path / "shots.json"
    shots.write_text(json.dumps([{"prompt": "un perro corre"}, {"prompt": "a cat sleeps"}, "not a shot"]))
    cli._start_language_helper(["generate", "--out", "x.mp4", "una pelota roja", "--seconds", "4",
                                "--shots", str(shots)])
    assert started == [["una pelota roja", "un perro corre", "a cat sleeps"]]


@pytest.mark.parametrize("argv", [
    [], ["verify", "x.mp4"], ["moderate", "hola"], ["generate", "--size", "huge", "hola"],
    ["generate", "hola", "--shots", "/nonexistent/shots.json"], ["generate", "--seconds"],
])
def test_other_commands_and_bad_arguments_start_no_helper(started: list[list[str]], argv: list[str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cli._start_language_helper(argv)
    assert started == []
    assert capsys.readouterr().err == ""  # the real parser reports bad arguments, once


def test_bad_generate_arguments_still_fail_with_the_usual_message(started: list[list[str]],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["generate", "--size", "huge", "hola"])
    assert exc.value.code == 2 and started == []
    assert capsys.readouterr().err.count("usage:") == 1


def test_generate_help_is_printed_once(started: list[list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["generate", "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.count("usage:") == 1


def test_the_dummy_password_hash_is_a_real_hash() -> None:
    from sora_lite.accounts import _DUMMY_HASH, MIN_PASSWORD, SCRYPT_N, SCRYPT_P, SCRYPT_R, verify_password

    assert _DUMMY_HASH.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")
    assert verify_password("x" * MIN_PASSWORD, _DUMMY_HASH)
    assert not verify_password("y" * MIN_PASSWORD, _DUMMY_HASH)


def test_importing_the_safety_package_loads_nothing_heavy() -> None:
    code = ("import sys, sora_lite.safety as s; heavy = [m for m in ('numpy', 'sora_lite.safety.moderation') "
            "if m in sys.modules]; s.moderate_prompt; print(heavy, 'sora_lite.safety.moderation' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True"

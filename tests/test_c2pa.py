"""C2PA: our claims read back Valid, one changed byte reads Tampered, unsigned reads Absent; keys stay private."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from sora_lite.media import Clip, write_video
from sora_lite.provenance import ProvenanceClaims, SigningError, prompt_sha256, sign_video
from sora_lite.provenance.keys import CERT_ENV, KEY_ENV, SigningKeyError, keys_dir, signing_material
from sora_lite.provenance.verify import read_c2pa

PROMPT = "a red ball bouncing on a wooden floor, secret-word-xyzzy"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def private_home(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(CERT_ENV, raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    return tmp_path / "home"


@pytest.fixture
def plain_mp4(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (6, 64, 64, 3), dtype=np.uint8)
    return write_video(Clip(frames, Fraction(24)), tmp_path / "plain.mp4")


def sign(src: Path, dst: Path, **extra) -> ProvenanceClaims:
    claims = ProvenanceClaims.for_prompt(PROMPT, clip_id="c0ffee0123456789", engine="world", **extra)
    sign_video(src, dst, claims=claims)
    return claims


def test_signed_file_reads_valid_with_our_claims(plain_mp4, tmp_path) -> None:
    dst = tmp_path / "signed.mp4"
    sign(plain_mp4, dst)
    report = read_c2pa(dst)
    assert report.state == "valid", report.messages
    assert report.claims["clip_id"] == "c0ffee0123456789"
    assert report.claims["engine"] == "world"
    assert report.claims["prompt_sha256"] == prompt_sha256(PROMPT)
    assert report.claims["generator"] == "sora-lite"
    assert report.actions == ["c2pa.created"]
    assert report.digital_source_type.endswith("trainedAlgorithmicMedia")
    raw = dst.read_bytes()
    assert b"secret-word-xyzzy" not in raw and b"PRIVATE KEY" not in raw


def test_one_changed_byte_reads_tampered(plain_mp4, tmp_path) -> None:
    dst = tmp_path / "signed.mp4"
    sign(plain_mp4, dst)
    data = bytearray(dst.read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 64] ^= 0x01
    bad = tmp_path / "tampered.mp4"
    bad.write_bytes(bytes(data))
    report = read_c2pa(bad)
    assert report.state == "tampered"
    assert any("mismatch" in m for m in report.messages)


def test_unsigned_file_reads_absent(plain_mp4) -> None:
    assert read_c2pa(plain_mp4).state == "absent"


def test_remix_names_its_parent_as_ingredient(plain_mp4, tmp_path) -> None:
    parent = tmp_path / "parent.mp4"
    sign(plain_mp4, parent)
    child = tmp_path / "child.mp4"
    sign(plain_mp4, child, parent_clip_id="c0ffee0123456789", parent_path=str(parent))
    report = read_c2pa(child)
    assert report.state == "valid", report.messages
    assert report.actions == ["c2pa.opened", "c2pa.edited"]
    assert report.ingredients == ["parent.mp4"]
    assert report.claims["parent_clip_id"] == "c0ffee0123456789"


def test_keys_are_private_files_outside_the_repo(private_home, plain_mp4, tmp_path) -> None:
    sign(plain_mp4, tmp_path / "signed.mp4")
    directory = keys_dir()
    assert directory.is_relative_to(private_home)
    for key_file in directory.glob("*.key"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    material = signing_material()
    assert "PRIVATE" not in repr(material)


def test_operator_keys_are_used_and_half_configuration_is_an_error(monkeypatch, plain_mp4, tmp_path) -> None:
    signing_material()  # makes an instance chain we can hand back as "operator" files
    d = keys_dir()
    monkeypatch.setenv(CERT_ENV, str(d / "c2pa_chain.pem"))
    monkeypatch.setenv(KEY_ENV, str(d / "c2pa_signer.key"))
    assert signing_material().source == "operator"
    sign(plain_mp4, tmp_path / "op.mp4")
    assert read_c2pa(tmp_path / "op.mp4").state == "valid"
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(SigningKeyError, match=KEY_ENV):
        signing_material()


def test_signing_a_missing_or_unsupported_file_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(SigningError, match="no such file"):
        sign(tmp_path / "nope.mp4", tmp_path / "out.mp4")
    gif = tmp_path / "x.gif"
    gif.write_bytes(b"GIF89a")
    with pytest.raises(SigningError, match="supports"):
        sign(gif, tmp_path / "out.gif")
    assert not (tmp_path / "out.mp4").exists()


def _repo_files() -> list[str]:
    """The files git would commit (tracked + untracked, .gitignore applied); in a copy that is not a git
    checkout (an unpacked archive, a chroot without git) every file under the repo except the folders
    .gitignore names, so the check still runs there instead of failing on the missing `git`."""
    try:
        done = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                              capture_output=True, text=True, check=False)
    except OSError:
        done = None
    if done is not None and done.returncode == 0:
        return done.stdout.split()
    ignored_dirs = {".git", "__pycache__", ".pytest_cache", ".venv", "out", "runs"}
    ignored_suffixes = {".pyc", ".mp4", ".webm"}
    return [str(path.relative_to(REPO)) for path in REPO.rglob("*")
            if not ignored_dirs & set(path.relative_to(REPO).parts[:-1])
            and not any(part.endswith(".egg-info") for part in path.relative_to(REPO).parts)
            and path.suffix not in ignored_suffixes]


def test_no_private_key_anywhere_in_the_repo() -> None:
    listed = _repo_files()
    assert any(name.endswith("test_c2pa.py") for name in listed), "the file listing found nothing"
    offenders = []
    for name in listed:
        path = REPO / name
        if path.is_file() and path.stat().st_size < 5_000_000:
            if b"PRIVATE KEY-----" in path.read_bytes() and path.suffix not in {".py", ".md"}:
                offenders.append(name)
    assert offenders == []

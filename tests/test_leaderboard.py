"""The Leaderboard tab's reader: CSVs from a folder into one table and a plot; the command when there are none."""

from __future__ import annotations

import pandas as pd

from sora_lite import leaderboard
from sora_lite.leaderboard import LEADERBOARD_COMMAND, load_leaderboard


def test_no_leaderboard_shows_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path))
    monkeypatch.delenv("SORA_LITE_LEADERBOARD", raising=False)
    monkeypatch.setattr(leaderboard, "BASELINE_DIR", tmp_path / "no-baseline")
    board = load_leaderboard()
    assert board.empty and LEADERBOARD_COMMAND in board.message
    assert board.plot_frame().empty


def test_a_fresh_install_shows_the_shipped_baseline_labelled_as_such(tmp_path, monkeypatch):
    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path))
    monkeypatch.delenv("SORA_LITE_LEADERBOARD", raising=False)
    board = load_leaderboard()
    assert board.baseline and not board.empty and LEADERBOARD_COMMAND in board.message
    assert "Baseline" in board.message and set(board.table["source"]) == {"baseline (shipped)"}
    assert not board.plot_frame().empty  # something to look at, not only to read
    assert "eval.calibrate" in board.notes  # how it was made, and the calibration tables
    # The shipped table is readable: no column empty on every row.
    assert all(board.table[c].notna().any() for c in board.table.columns)
    # Once the user has a leaderboard of their own, the baseline steps aside.
    (tmp_path / "leaderboards" / "mine").mkdir(parents=True)
    pd.DataFrame({"generator": ["mine"], "suite": ["physics"], "physics_mean": [0.5]}).to_csv(
        tmp_path / "leaderboards" / "mine" / "leaderboard.csv", index=False)
    board = load_leaderboard()
    assert not board.baseline and list(board.table["generator"]) == ["mine"]


def test_folder_of_csvs_becomes_one_sortable_table(tmp_path, monkeypatch):
    (tmp_path / "world").mkdir()
    # the columns eval.report writes: <metric>_mean, _ci_low, _ci_high, _n, plus counts
    pd.DataFrame({"generator": ["world"], "suite": ["physics"], "n_samples": [60], "physics_mean": [0.9], "physics_ci_low": [0.8],
                  "physics_ci_high": [0.95], "physics_n": [60]}).to_csv(tmp_path / "world" / "leaderboard.csv", index=False)
    pd.DataFrame({"generator": ["wan"], "suite": ["physics"], "n_samples": [60], "physics_mean": [0.4], "physics_ci_low": [0.3],
                  "physics_ci_high": [0.5], "physics_n": [60]}).to_csv(tmp_path / "wan.csv", index=False)
    pd.DataFrame({"video": ["a.mp4"], "metric": ["x"], "value": [1.0]}).to_csv(tmp_path / "world" / "samples.csv", index=False)
    (tmp_path / "broken.csv").write_bytes(b"\xff\xfe\x00garbage\n\"unclosed")
    monkeypatch.setenv("SORA_LITE_LEADERBOARD", str(tmp_path))
    board = load_leaderboard()
    assert sorted(board.table["generator"]) == ["wan", "world"]
    assert "broken.csv" in board.message  # skipped, and said so
    assert set(board.table["source"]) == {"wan.csv", "world/leaderboard.csv"}
    plot = board.plot_frame()
    assert set(plot["metric"]) == {"physics"}  # CI bounds and counts are not scores
    assert dict(zip(plot["generator"], plot["value"])) == {"world · physics": 0.9, "wan · physics": 0.4}


def test_unreachable_hub_dataset_is_a_message_not_a_crash(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    board = load_leaderboard("nobody/no-such-leaderboard")
    assert board.empty and "nobody/no-such-leaderboard" in board.message and LEADERBOARD_COMMAND in board.message

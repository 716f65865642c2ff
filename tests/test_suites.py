"""Prompt suites: the shipped files meet the minimum counts and the schema; bad suites fail clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from eval.suites import BUILTIN_SUITES, MIN_COUNTS, PHYSICS_LAWS, SuiteError, load_suite, load_suites

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def suites():
    return {name: load_suite(name) for name in BUILTIN_SUITES}


def test_builtin_suites_meet_minimum_counts_and_schema(suites):
    for name, suite in suites.items():
        assert len(suite) >= MIN_COUNTS[name], name
        ids = [p.id for p in suite.prompts]
        assert len(ids) == len(set(ids)), f"{name} has duplicate ids"
        for p in suite.prompts:
            assert p.text and isinstance(p.tags, list) and p.tags, p.id
            assert isinstance(p.expectations, dict) and p.expectations, p.id
            assert p.suite == name
            assert None not in p.expectations.values(), p.id


def test_alignment_covers_every_category(suites):
    tags = Counter(t for p in suites["alignment"].prompts for t in p.tags)
    for category in ("objects", "counts", "colours", "spatial", "camera", "lighting"):
        assert tags[category] >= 10, category
    for p in suites["alignment"].prompts:
        for obj in p.expectations["objects"]:
            assert {"name", "shape", "color", "count"} <= set(obj), p.id
            assert isinstance(obj["count"], int) and obj["count"] >= 1
        if "counts" in p.tags and p.tags[0] == "counts":
            assert p.expectations["objects"][0]["count"] >= 2, p.id


def test_physics_groups_every_law_with_an_observable(suites):
    laws = Counter(p.expectations["law"] for p in suites["physics"].prompts)
    assert set(laws) == set(PHYSICS_LAWS)
    assert min(laws.values()) >= 6
    for p in suites["physics"].prompts:
        e = p.expectations
        assert e["object"] and e["color"] and e["observable"], p.id
        assert e["color"] in e["object"], p.id


def test_av_sync_prompts_have_countable_events(suites):
    events = [p.expectations["events"] for p in suites["av_sync"].prompts]
    assert all(isinstance(n, int) and 1 <= n <= 8 for n in events)
    assert len(set(events)) >= 3  # the suite spans several counts, not one


def test_multishot_storyboards_name_what_persists(suites):
    for p in suites["multishot"].prompts:
        shots = p.expectations["shots"]
        assert len(shots) >= 2 and all(s["prompt"] and s["camera"] for s in shots), p.id
        assert p.expectations["cuts"] == len(shots) - 1
        persist = p.expectations["persist"]
        assert persist and all({"object", "attribute", "value"} <= set(x) for x in persist), p.id


def test_local_jsonl_loads_with_defaults_and_limit(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"id": 1, "text": "a cat"}\n{"id": "b", "text": "a dog", "tags": ["x"], "expectations": {"events": 2}}\n')
    suite = load_suite(str(path))
    assert suite.name == "mine" and [p.id for p in suite.prompts] == ["1", "b"]
    assert suite.prompts[0].tags == [] and suite.prompts[0].expectations == {}
    assert suite.prompts[1].expectations == {"events": 2}
    assert len(load_suite(str(path), limit=1)) == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "appears twice"),
        ('{"id": "a"}\n', "'text'"),
        ('{"id": "a", "text": "x", "expectations": {"law": "levitation"}}\n', "unknown law"),
        ("not json at all\n", "cannot read suite file"),
    ],
)
def test_bad_local_suites_fail_clearly(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(SuiteError, match=message):
        load_suite(str(path))


def test_unknown_names_and_duplicates_fail_clearly(tmp_path):
    with pytest.raises(SuiteError, match="unknown suite 'phyiscs'"):
        load_suite("phyiscs")
    with pytest.raises(SuiteError, match="does not exist"):
        load_suite(str(tmp_path / "missing.jsonl"))
    with pytest.raises(SuiteError, match="two suites"):
        load_suites("physics,physics")
    with pytest.raises(SuiteError, match="no suites"):
        load_suites(" , ")


@pytest.mark.slow  # a fresh interpreter / end to end; the quick tier keeps this module's other tests
def test_hub_suite_offline_names_the_id_and_how_to_get_it(tmp_path):
    # A fresh process so HF_HUB_OFFLINE is read at import time, with an empty cache.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT)}
    code = (
        "from eval.suites import load_suite, SuiteError\n"
        "try:\n    load_suite('someone/video-prompts')\nexcept SuiteError as e:\n    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert "ERR" in out and "someone/video-prompts" in out
    assert "HF_HOME" in out and "download" in out


def test_shipped_files_are_plain_jsonl():
    # Each line parses on its own (no trailing commas, no multi-line objects): the format `datasets` streams.
    for name in BUILTIN_SUITES:
        for line in (ROOT / "prompts" / f"{name}.jsonl").read_text().splitlines():
            assert isinstance(json.loads(line), dict)

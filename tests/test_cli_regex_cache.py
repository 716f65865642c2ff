"""The compiled-regex cache behind the rule book and the lexicons (issue 15, CLI start-up): a pattern built
from the cache equals `re.compile`'s (same source, flags and code), and anything wrong with the cache only
costs time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sora_lite.common import regex_cache
from sora_lite.common.regex_cache import RegexCache

SOURCES = [r"(?:(?<![a-z0-9])|(?=[^a-z0-9]))(?:nu+d+e+|k+i+l{2,})(?:(?![a-z0-9])|(?<=[^a-z0-9]))",
           r"(?P<who>\w+) (?:says|shouts) (?P=who)?", "[\u4e00-\u9fff]+岁", r"a{2,5}?b*"]


@pytest.mark.skipif(not regex_cache._KEY, reason="this interpreter has no re internals to cache")
def test_patterns_from_the_cache_equal_re_compile(tmp_path: Path) -> None:
    cold = RegexCache("t", tmp_path)
    first = [cold.compile(s, re.IGNORECASE if i == 1 else 0) for i, s in enumerate(SOURCES)]
    cold.save()
    assert cold.path is not None and cold.path.exists()
    warm = RegexCache("t", tmp_path)
    second = [warm.compile(s, re.IGNORECASE if i == 1 else 0) for i, s in enumerate(SOURCES)]
    for i, (a, b, s) in enumerate(zip(first, second, SOURCES)):
        want = re.compile(s, re.IGNORECASE if i == 1 else 0)
        assert a == want and b == want
    assert second[1].groupindex == {"who": 1}
    assert second[1].search("Ann SAYS ann").group("who") == "Ann"
    assert second[0].search("a nuuude scene").group(0) == "nuuude"
    assert not warm._changed  # all four came from the file


def test_a_damaged_or_foreign_cache_only_costs_time(tmp_path: Path) -> None:
    cache = RegexCache("t", tmp_path)
    if cache.path is None:
        pytest.skip("no cache on this interpreter")
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_bytes(b"not marshal data")
    assert RegexCache("t", tmp_path).compile(SOURCES[0]) == re.compile(SOURCES[0])
    import marshal

    cache.path.write_bytes(marshal.dumps({(SOURCES[0], 0): (0, [1, 2, 3], 0, {}, ())}))  # wrong code
    with pytest.raises(re.error):
        RegexCache("t", tmp_path).compile("a(")  # a bad pattern still raises as re.compile does
    assert RegexCache("t", tmp_path).compile(SOURCES[0]).search("nude") is not None


def test_a_read_only_cache_folder_still_compiles(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would go")
    cache = RegexCache("t", blocked)
    assert cache.compile(SOURCES[3]) == re.compile(SOURCES[3])
    cache.save()  # cannot write: no error


def test_the_rule_book_compiles_the_same_patterns_with_a_cold_and_a_warm_cache(tmp_path: Path) -> None:
    """In fresh interpreters with different hash seeds (the alternations' order must not depend on them,
    or the cache would never hit): every pattern of the rule book equals re.compile of its source."""
    code = ("import re, sys; from sora_lite.safety import rules; b = rules.load_rules(); "
            "pats = [p for c in b.categories for p in [c.terms, c.allow, c.classifier_cues, "
            "*(q for _, q in c.patterns), *(q for _, q in c.near), *(q for _, g in c.both for q in g)] "
            "if p is not None] + [p for p in (b.allow, b.operator_allow) if p is not None]; "
            "assert all(p == re.compile(p.pattern) for p in pats); "
            "print(len(pats), rules._REGEX._changed, hash(tuple(p.pattern for p in pats)) if False else "
            "__import__('hashlib').sha256('|'.join(p.pattern for p in pats).encode()).hexdigest())")
    outs = []
    for seed in ("1", "2"):
        env = {**__import__("os").environ, "SORA_LITE_CACHE_DIR": str(tmp_path), "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        outs.append(done.stdout.split())
    (n1, changed1, digest1), (n2, changed2, digest2) = outs
    assert n1 == n2 and int(n1) > 100 and digest1 == digest2
    if regex_cache._KEY:
        assert changed1 == "False" and changed2 == "False"  # saved by the first, every pattern hit by the second
        assert list((tmp_path / "regex").glob("rules-*.marshal"))

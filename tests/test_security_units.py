"""The security pieces one by one, without a server: cookies, mode, escaping, queue limits, throttling."""

from __future__ import annotations

import html

import pytest

from sora_lite import accounts
from sora_lite.engines.base import has_words
from sora_lite.fair_queue import JobLimits, QueueLimit, fair_order
from sora_lite.markup import markdown_text
from sora_lite.store import open_store
from sora_lite.studio import spec_from_json
from sora_lite.visitors import SessionOwners, single_user_mode, visitor_from_token, visitor_token


def test_visitor_tokens_cannot_be_forged():
    secret, other = b"k" * 32, b"j" * 32
    token = visitor_token(secret, "ab" * 16)
    assert visitor_from_token(secret, token) == "ab" * 16
    assert visitor_from_token(other, token) is None
    assert visitor_from_token(secret, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert visitor_from_token(secret, "v1." + "cd" * 16 + "." + token.split(".")[2]) is None  # another id, same mac
    for junk in (None, "", "v1..", "x" * 500, "v2." + token[3:]):
        assert visitor_from_token(secret, junk) is None


def test_a_session_hash_belongs_to_its_first_visitor():
    owners = SessionOwners(capacity=2)
    assert owners.claim("s1", "alice") and owners.claim("s1", "alice")
    assert not owners.claim("s1", "mallory")


@pytest.mark.parametrize("env,name,space,expected", [
    ("", None, False, True), ("", "127.0.0.1", False, True), ("", "localhost", False, True),
    ("", "0.0.0.0", False, False), ("", "127.0.0.1", True, False), ("1", "0.0.0.0", False, True),
    ("0", "127.0.0.1", False, False),
])
def test_single_user_mode_follows_the_address(monkeypatch, env, name, space, expected):
    monkeypatch.setenv("SORA_LITE_SINGLE_USER", env)
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert single_user_mode(name, on_space=space) is expected


def test_markdown_text_is_inert():
    hostile = '<img src=http://h/t.png> [LOGIN](http://h) ![x](http://h/i.png) <details open> **b** `c` www.h.com a@h.io\nline'
    out = markdown_text(hostile)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert "](" not in out and "http://" not in out and "www.h" not in out
    assert html.unescape(out).replace("\\", "") == " ".join(hostile.split()).replace("\\", "")


def test_empty_looking_prompts():
    for text in ("", "   ", "\u200b\u200d\ufeff", "🎈🙂", "!!! ...", "\u2060 🎈 \u200b"):
        assert not has_words(text), repr(text)
    for text in ("a ball", "球", "3", "🎈 ball"):
        assert has_words(text)


def test_deep_specs_are_one_clear_error():
    from sora_lite.engines import RequestError

    with pytest.raises(RequestError, match="nests deeper"):
        spec_from_json('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(RequestError, match="nests deeper"):
        spec_from_json('{"a": ' + "[" * 40 + "]" * 40 + "}")
    assert spec_from_json('{"objects": [{"shape": "ball", "note": "[[[[ in a string ]]]]"}]}')["objects"][0]["shape"] == "ball"
    assert spec_from_json("  ") is None


def test_job_limits_two_waiting_one_running_per_visitor():
    limits = JobLimits(max_waiting=2, max_running=1, max_client_renders=3)
    a1, a2 = limits.admit("a", "1.1.1.1"), limits.admit("a", "1.1.1.1")
    with pytest.raises(QueueLimit, match="2 renders waiting"):
        limits.admit("a", "1.1.1.1")
    b1 = limits.admit("b", "1.1.1.1")  # another visitor from the same address
    with pytest.raises(QueueLimit, match="network address"):  # cookie cycling meets the address limit
        limits.admit("c", "1.1.1.1")
    with limits.running("a"):
        assert limits.counts("a") == {"waiting": 1, "running": 1}
        limits.admit("a", "2.2.2.2")  # one started: a place is free again
    for t in (a1, a2, b1):
        limits.drop(t)


def test_job_limits_free_places_of_jobs_gone_from_the_queue():
    live = {"e1", "e2"}
    limits = JobLimits(alive=lambda event_id: event_id in live)
    for event_id in ("e1", "e2"):
        limits.attach(limits.admit("a", "x"), event_id)
    with pytest.raises(QueueLimit):
        limits.admit("a", "x")
    live.discard("e1")  # the tab was closed: Gradio dropped the event
    limits.admit("a", "x")


def test_fair_order_round_robins_and_puts_busy_visitors_after():
    jobs = ["a1", "a2", "a3", "b1", "c1", "b2"]
    assert fair_order(jobs, key=lambda j: j[0]) == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert fair_order(jobs, key=lambda j: j[0], busy={"a"}) == ["b1", "c1", "a1", "b2", "a2", "a3"]


def test_throttle_waits_grow_then_lock():
    t = accounts.ACCOUNT_THROTTLE
    waits = [t.wait_s(n, 0.0) for n in range(0, 6)]
    assert waits[:3] == [0, 0, 0] and 0 < waits[3] < waits[4] < waits[5] and waits[5] == t.lock_s
    assert t.wait_s(3, 100.0) == 0.0  # waited long enough


def test_sign_in_is_throttled_per_client_across_names(tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "CLIENT_THROTTLE", accounts.Throttle(free=1, first_wait_s=60, lock_after=3,
                                                                        lock_s=600, window_s=900))
    store = open_store(home=tmp_path, url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    accounts.create_account(store, "frank", "frank-password")
    for name in ("n1", "n2"):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(store, name, "x" * 8, client="9.9.9.9")
    with pytest.raises(accounts.LoginThrottled):  # a third name from the same address must wait
        accounts.authenticate(store, "frank", "frank-password", client="9.9.9.9")
    assert accounts.authenticate(store, "frank", "frank-password", client="8.8.8.8").username == "frank"


def test_guests_own_their_clips_but_no_likeness(tmp_path):
    store = open_store(home=tmp_path, url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    guest = accounts.guest_user(store, "ab" * 16)
    assert guest.provider == "guest" and guest.can_own_clips and not guest.can_own
    assert accounts.guest_user(store, "ab" * 16).id == guest.id
    with pytest.raises(accounts.AccountError):
        accounts.create_account(store, "guest:abab", "password1")  # ':' cannot be in an account name
    assert accounts.acting_user(store, visitor="ab" * 16, single_user=False).id == guest.id
    assert accounts.acting_user(store, visitor="ab" * 16, single_user=True).provider == "local"
    frank = accounts.create_account(store, "frank", "frank-password")
    accounts.sign_in_visitor(store, "ab" * 16, frank)
    assert accounts.acting_user(store, visitor="ab" * 16, single_user=False).id == frank.id
    accounts.sign_out_visitor(store, "ab" * 16)
    assert accounts.acting_user(store, visitor="ab" * 16, single_user=False).id == guest.id

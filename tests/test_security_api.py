"""Issue 13's attacks 2-7, re-run through the HTTP API (gradio_client) against the app in multi-user mode.

Each test plays the attacker and asserts the attack fails with a clear message (and, where it touches a
person, leaves an audit entry).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from fake_engine import register  # noqa: E402
from security_server import SLOW, served  # noqa: E402

from sora_lite import accounts  # noqa: E402
from sora_lite.store import AuditEntry  # noqa: E402

pytestmark = pytest.mark.slow
register()  # the "fake" engine: a clip in well under a second, so these tests measure the doors, not rendering


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with served(home) as (demo, studio):
        yield demo.local_url, studio, home


@pytest.fixture
def fresh_attempts(server):
    """Every test here signs in from 127.0.0.1: forget earlier tests' failed tries (the per-client throttle)."""
    from sqlalchemy import delete

    from sora_lite.store import SignInAttempt

    def clear() -> None:
        with server[1].store.session() as s:
            s.execute(delete(SignInAttempt))

    clear()
    yield
    clear()


def client(url: str) -> Client:
    return Client(url, verbose=False)


def generate(c: Client, prompt: str = "a red ball bounces", **kw):
    args = {"prompt": prompt, "image": None, "engine": "fake", "seconds": 1, "size": "128x128", "fps": 8, "seed": 1,
            "use_spec": False, "spec_json": "", **kw}
    return c.predict(*args.values(), api_name="/generate")


def audit(studio, action: str, subject: str | None = None) -> list[AuditEntry]:
    from sqlalchemy import select

    with studio.store.session() as s:
        query = select(AuditEntry).where(AuditEntry.action == action)
        if subject is not None:
            query = query.where(AuditEntry.subject == subject)
        return list(s.scalars(query))


# --- 2. visitors are distinct -------------------------------------------------------------------------------

def test_signed_out_visitors_are_distinct_and_own_only_their_clips(server):
    url, studio, _ = server
    first, second = client(url), client(url)
    _, record, _ = generate(first, "first visitor's ball")
    assert record["user"].startswith("guest:")
    with pytest.raises(Exception, match="belongs to another user"):
        second.predict(record["id"], api_name="/delete")
    assert studio.get(record["id"]).id == record["id"]  # still there
    assert audit(studio, "clip.delete_refused", record["id"])  # the attempt on someone's clip is on record
    with pytest.raises(Exception, match="sign in to ask for a cameo"):
        second.predict("@alice", api_name="/cameo_request_access")
    assert first.predict(record["id"], api_name="/delete") == {"deleted": record["id"]}
    [entry] = audit(studio, "clip.delete", record["id"])
    assert entry.user_id == accounts.get_user(studio.store, record["user"]).id


def test_single_user_mode_keeps_one_local_user(tmp_path):
    with served(tmp_path / "home", single_user=True) as (demo, studio):
        first, second = client(demo.local_url), client(demo.local_url)
        _, record, _ = generate(first, "a laptop's ball")
        assert record["user"] == "local"
        assert second.predict(record["id"], api_name="/delete") == {"deleted": record["id"]}


# --- 3. sign-in throttling, one message, no name enumeration ------------------------------------------------

def test_password_guessing_is_slowed_then_locked_and_audited(server, fresh_attempts, monkeypatch):
    url, studio, _ = server
    monkeypatch.setattr(accounts, "ACCOUNT_THROTTLE", accounts.Throttle(free=2, first_wait_s=0.3, lock_after=5,
                                                                          lock_s=600, window_s=900))
    owner = client(url)
    owner.predict("alice", "alice-password", api_name="/sign_up")
    attacker = client(url)
    messages = []
    for attempt in range(60):  # as fast as the server answers, as in the report (60 tries in 4.7 s)
        try:
            attacker.predict("alice", f"guess-{attempt}", api_name="/sign_in")
            messages.append("accepted")
        except Exception as e:  # noqa: BLE001
            messages.append(str(e))
    assert "accepted" not in messages
    wrong = [m for m in messages if "wrong username or password" in m]
    waits = [m for m in messages if "try again in" in m]
    assert 2 <= len(wrong) <= 5 and len(waits) >= 50, messages[:8]
    for pause in (0.35, 0.7, 1.3):  # waiting out the growing delays: each answered try is one more failure
        time.sleep(pause)
        with pytest.raises(Exception):
            attacker.predict("alice", "still-guessing", api_name="/sign_in")
    with pytest.raises(Exception, match="try again in"):  # locked: even the right password is not heard
        attacker.predict("alice", "alice-password", api_name="/sign_in")
    assert audit(studio, "account.locked", "alice"), "the lock is audited"
    assert len(audit(studio, "account.sign_in_failed", "alice")) >= 5
    assert audit(studio, "account.sign_in_throttled", "alice")


def test_no_such_user_and_wrong_password_read_the_same(server, fresh_attempts):
    url, studio, _ = server
    client(url).predict("bob", "bob-password", api_name="/sign_up")
    errors = []
    for name in ("bob", "nobody-here"):
        with pytest.raises(Exception) as err:
            client(url).predict(name, "not-the-password", api_name="/sign_in")
        errors.append(str(err.value))
    assert errors[0] == errors[1] and "wrong username or password" in errors[0]


def test_sign_up_does_not_tell_taken_from_reserved(server, fresh_attempts):
    url, _, _ = server
    client(url).predict("carol", "carol-password", api_name="/sign_up")
    replies = []
    for name in ("carol", "admin"):
        with pytest.raises(Exception) as err:
            client(url).predict(name, "some-password", api_name="/sign_up")
        replies.append(str(err.value))
    assert replies[0] == replies[1] and "taken or reserved" in replies[0]


# --- 4. the session hash is no credential ---------------------------------------------------------------------

def test_a_stolen_session_hash_gives_nothing(server, fresh_attempts):
    url, studio, _ = server
    dora = client(url)
    dora.predict("dora", "dora-password", api_name="/sign_up")
    _, mine, _ = generate(dora, "dora's ball")
    assert mine["user"] == "dora"

    thief = client(url)
    thief.session_hash = dora.session_hash  # read from a proxy log: ?session_hash=... in GET /queue/data
    with pytest.raises(Exception, match="another browser"):
        thief.predict(mine["id"], api_name="/delete")
    raw = httpx.get(f"{url}gradio_api/queue/data", params={"session_hash": dora.session_hash}, timeout=10)
    assert raw.status_code == 403 and "another browser" in raw.text
    assert len(audit(studio, "session.foreign_hash_refused")) >= 2

    fresh = client(url)  # its own session: acts as its own guest, not as dora
    with pytest.raises(Exception, match="another user"):
        fresh.predict(mine["id"], api_name="/delete")
    forged = client(url)  # a made-up cookie is no identity: each request becomes a new guest, and fails
    forged.cookies["sora_lite_visitor"] = "v1." + "0" * 32 + ".not-a-signature"
    with pytest.raises(Exception):
        forged.predict(mine["id"], api_name="/delete")
    assert studio.get(mine["id"]).user == "dora"


def test_sign_out_ends_the_browsers_sign_in(server, fresh_attempts):
    url, _, _ = server
    erin = client(url)
    erin.predict("erin", "erin-password", api_name="/sign_up")
    _, record, _ = generate(erin, "erin's ball")
    erin.predict(api_name="/sign_out")
    with pytest.raises(Exception, match="another user"):
        erin.predict(record["id"], api_name="/delete")
    erin.predict("erin", "erin-password", api_name="/sign_in")
    assert erin.predict(record["id"], api_name="/delete") == {"deleted": record["id"]}


# --- 5. prompts are text (the browser half is tests/test_security_browser.py) ------------------------------

def test_hostile_prompts_come_back_escaped_in_the_lineage(server):
    url, _, _ = server
    c = client(url)
    _, parent, _ = generate(c, "a red ball")
    hostile = '<img src=http://127.0.0.1:9/track.png> <a href="http://evil.example/">LOGIN</a> <details open>x'
    _, child, lineage = c.predict(parent["id"], hostile, "", api_name="/remix")
    _, _, parent_lineage = c.predict(parent["id"], api_name="/open")
    for text in (lineage, parent_lineage):
        assert "<img" not in text and "<a " not in text and "<details" not in text
    assert "&lt;img" in parent_lineage and "&lt;a href" in parent_lineage  # the child's prompt, as characters
    with pytest.raises(Exception) as err:
        c.predict("<img src=http://127.0.0.1:9/x.png>", api_name="/open")
    assert "<img" not in str(err.value)


# --- 6. one visitor cannot fill the queue ---------------------------------------------------------------------

def test_one_visitor_gets_two_waiting_renders_and_others_keep_their_turn(server):
    url, _, _ = server
    flood, other = client(url), client(url)
    SLOW.release.clear()
    SLOW.started.clear()

    def job(c: Client, prompt: str, seed: int = 0):
        return c.submit(prompt, None, "slow", 1, "128x128", 8, seed, False, "", api_name="/generate")

    jobs = [job(flood, "flood 0")]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not SLOW.started:  # the first render is running (and held)
        time.sleep(0.1)
    assert SLOW.started
    refused = []
    for i in range(1, 8):  # the report sent 70 joins in 2.4 s
        jobs.append(job(flood, f"flood {i}", i))
        time.sleep(0.15)
    time.sleep(1.0)
    theirs = job(other, "the other visitor's one job")
    time.sleep(1.0)
    SLOW.release.set()
    done = []
    for job in jobs:
        try:
            job.result(timeout=180)
            done.append(job)
        except Exception as e:  # noqa: BLE001
            refused.append(str(e))
    theirs.result(timeout=180)
    assert len(done) == 3, (len(done), refused)  # one running + two waiting
    assert len(refused) == 5 and all("renders waiting" in m for m in refused), refused
    order = [prompt for _, prompt in SLOW.started]
    assert order == ["flood 0", "the other visitor's one job", "flood 1", "flood 2"], order  # next, not last


def test_the_queue_cannot_be_skipped_through_run(server):
    url, _, _ = server
    r = httpx.post(f"{url}gradio_api/run/generate", json={"data": ["x", None, "fake", 1, "128x128", 8, 0, False, ""]},
                   timeout=30)
    assert r.status_code in (403, 404, 405) or "error" in r.text.lower()
    assert "video" not in r.text


# --- 7. the smaller ones --------------------------------------------------------------------------------------

def test_empty_looking_prompts_are_empty(server):
    url, _, _ = server
    c = client(url)
    for prompt in ("\u200b\u200c\u200d\u2060\ufeff", "🎈🎈🎈 🙂", "  \u200b 🎈 "):
        with pytest.raises(Exception, match="empty"):
            generate(c, prompt)
        with pytest.raises(Exception, match="empty"):
            c.predict(prompt, "", api_name="/parse")


def test_deeply_nested_spec_is_a_clear_error(server):
    url, _, _ = server
    c = client(url)
    nested = "[" * 5000 + "]" * 5000
    spec = '{"objects": ' + nested + "}"
    for call in (lambda: generate(c, "a ball", use_spec=True, spec_json=spec),
                 lambda: c.predict("a ball", spec, api_name="/parse")):
        with pytest.raises(Exception, match="nests deeper") as err:
            call()
        assert "internal error" not in str(err.value) and "Recursion" not in str(err.value)


def test_a_zero_second_shot_is_an_error(server):
    url, _, _ = server
    c = client(url)
    for seconds in (0, -1, "nan"):
        shots = {"headers": ["shot", "camera", "seconds"], "data": [["a red ball", "static", 1], ["it rolls", "orbit", seconds]]}
        with pytest.raises(Exception, match="shot 2"):
            c.predict(shots, "fake", "128x128", 8, 0, api_name="/storyboard")


def test_prompt_box_allows_what_the_server_allows(server):
    url, _, _ = server
    from sora_lite.engines.base import MAX_PROMPT_CHARS

    config = client(url).config
    boxes = [c for c in config["components"] if c.get("props", {}).get("elem_id") in ("prompt", "remix-prompt")]
    assert len(boxes) == 2 and all(b["props"]["max_length"] == MAX_PROMPT_CHARS == 2000 for b in boxes)


def test_a_blocked_image_to_video_request_keeps_no_upload(server, tmp_path):
    url, studio, home = server
    from PIL import Image

    still = tmp_path / "still.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(still)
    before = set((home / "inputs").glob("*")) if (home / "inputs").exists() else set()
    with pytest.raises(Exception, match="content policy"):
        generate(client(url), "a graphic beheading with gore everywhere", image=handle_file(str(still)), engine="fake")
    after = set((home / "inputs").glob("*")) if (home / "inputs").exists() else set()
    assert after == before


def test_half_written_files_are_never_served_and_cleaned_at_start(server, tmp_path):
    import os

    from sora_lite.studio import Studio

    url, studio, home = server
    leftover = studio.clips_dir / ".encode-killed" / "deadbeef.part.mp4"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"\x00" * 1000)
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    os.utime(leftover.parent, (old, old))
    Studio(home)  # a restart
    assert not leftover.parent.exists()
    _, record, _ = generate(client(url), "a ball, encoded outside the served folder")
    assert not list(studio.clips_dir.glob(".encode-*")) and not list(studio.clips_dir.glob(".signing-*"))
    work = studio.work_dir / "probe.part.mp4"
    work.parent.mkdir(parents=True, exist_ok=True)
    work.write_bytes(b"\x00" * 100)
    r = httpx.get(f"{url}gradio_api/file={work}", timeout=10)
    assert r.status_code in (403, 404)
    work.unlink()


def test_unsigned_mkv_verifies_as_absent(tmp_path):
    import av
    import numpy as np

    from sora_lite.provenance.verify import read_c2pa

    path = tmp_path / "camera.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(8):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 20 * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    assert read_c2pa(path).state == "absent"


def test_public_records_name_no_server_paths(server):
    url, studio, home = server
    c = client(url)
    _, record, _ = generate(c, "a ball with a record")
    _, feed = c.predict(48, api_name="/feed")
    _, opened, _ = c.predict(record["id"], api_name="/open")
    for shown in (record, opened, *feed):
        text = json.dumps(shown)
        assert str(home) not in text and str(home.resolve()) not in text, text[:300]
    assert opened["video_path"] == f"{record['id']}.mp4"

"""The database and the studio service: restarts keep clips, concurrent writers lose nothing, ownership holds."""

from __future__ import annotations

import threading
import time

import av
import pytest
from sqlalchemy import func, inspect, select, text

from fake_engine import register
from sora_lite import accounts, feed
from sora_lite.engines import GenerationRequest, RequestError
from sora_lite.media import MediaError
from sora_lite.store import AuditEntry, ClipRow, User, database_url, home_dir, open_store
from app_ui.tables import shots_from_table
from sora_lite.studio import ClipRecord, Studio

TABLES = {"users", "clips", "cameos", "cameo_grants", "audit_log", "moderation_decisions"}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SORA_LITE_DB", raising=False)
    register()
    return tmp_path / "home"


def small(prompt: str = "a red ball bounces", **kw) -> GenerationRequest:
    return GenerationRequest(**{"prompt": prompt, "engine": "fake", "width": 128, "height": 128, "fps": 8, "seconds": 1.0, **kw})


def fake_record(clip_id: str, prompt: str = "p", parent_id: str | None = None) -> ClipRecord:
    return ClipRecord(id=clip_id, prompt=prompt, engine="fake", seed=1, request={"prompt": prompt}, video_path=f"/nowhere/{clip_id}.mp4", parent_id=parent_id)


def test_home_and_url_follow_the_environment(home, monkeypatch, tmp_path):
    assert home_dir() == home
    assert database_url() == f"sqlite:///{(home / 'sora_lite.db').resolve()}"
    monkeypatch.setenv("SORA_LITE_DB", f"sqlite:///{tmp_path / 'other.db'}")
    store = open_store()
    assert (tmp_path / "other.db").exists() and not (home / "sora_lite.db").exists()
    store.dispose()


def test_schema_created_on_first_start_and_kept_on_the_second(home):
    store = open_store()
    assert TABLES <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    user = accounts.local_user(store)
    feed.save_clip(store, fake_record("a1"), user)
    store.dispose()

    again = open_store()
    with again.session() as s:
        assert s.scalar(select(func.count()).select_from(ClipRow)) == 1
        assert s.scalar(select(User.username)) == "local"
    again.dispose()


def test_restart_keeps_clips_and_files(home):
    register()
    first = Studio()
    record = first.generate(small(seed=7))
    first.store.dispose()

    second = Studio()
    [listed] = second.feed()
    assert listed.id == record.id and listed.seed == 7 and listed.user == "local"
    assert listed.video_path.startswith(str(home / "clips"))
    assert listed.to_dict() == {**record.to_dict(), "created_at": listed.created_at}
    assert abs(listed.created_at - record.created_at) < 1e-6
    with av.open(listed.video_path) as container:
        assert container.streams.video and container.streams.audio
    assert listed.thumbnail_path and (home / "clips" / f"{record.id}.png").exists()
    assert listed.ground_truth_path and (home / "clips" / f"{record.id}.truth.json").exists()


def test_two_threads_writing_at_once_lose_nothing(home):
    store_a = open_store()
    store_b = open_store()  # a second engine on the same file, like a second process
    users = [accounts.local_user(store_a), accounts.create_account(store_b, "writer", "password123")]
    errors: list[BaseException] = []

    def write(store, user, prefix):
        try:
            for i in range(40):  # each a remix of the last: a read then a write in one transaction
                parent = f"{prefix}{i - 1:03d}" if i else None
                feed.save_clip(store, fake_record(f"{prefix}{i:03d}", parent_id=parent), user)
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(s, u, p)) for s, u, p in ((store_a, users[0], "a"), (store_b, users[1], "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with store_a.session() as s:
        assert s.scalar(select(func.count()).select_from(ClipRow)) == 80
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "clip.create")) == 80
    assert len(feed.list_feed(store_b, limit=200)) == 80
    assert len(feed.lineage(store_b, "b039").ancestors) == 39


def test_only_the_author_deletes_and_lineage_survives(home):
    studio = Studio()
    alice = accounts.create_account(studio.store, "alice", "correct horse")
    bob = accounts.create_account(studio.store, "bob", "battery staple")
    parent = studio.generate(small("a blue cube"), user=alice)
    child = studio.remix(parent.id, "now it is green", user=bob)
    assert child.parent_id == parent.id and child.user == "bob"
    assert child.request["parent_video"] == parent.video_path

    with pytest.raises(PermissionError):
        studio.delete(parent.id, user=bob)
    with pytest.raises(PermissionError):
        studio.delete(parent.id, user=accounts.anonymous_user(studio.store))
    with pytest.raises(PermissionError):
        studio.delete(parent.id)  # the local user is not alice either
    assert [r.id for r in studio.feed()] == [child.id, parent.id]  # newest first

    lin = studio.lineage(parent.id)
    assert [c.id for c in lin.children] == [child.id] and lin.ancestors == []

    studio.delete(parent.id, user=alice)
    assert [r.id for r in studio.feed()] == [child.id]
    assert not (home / "clips" / f"{parent.id}.mp4").exists()
    with pytest.raises(LookupError):
        studio.get(parent.id)
    with pytest.raises(LookupError):
        studio.remix(parent.id, "again", user=bob)
    [ancestor] = studio.lineage(child.id).ancestors
    assert ancestor.id == parent.id and ancestor.deleted and ancestor.user == "alice"


def test_remix_chain_and_feed_by_author(home):
    studio = Studio()
    a = studio.generate(small("one ball"))
    b = studio.remix(a.id, "two balls")
    c = studio.remix(b.id, "three balls", seed=5)
    assert c.seed == 5 and c.request["width"] == 128
    assert [n.id for n in studio.lineage(c.id).ancestors] == [b.id, a.id]
    assert [r.id for r in studio.feed(username="local")] == [c.id, b.id, a.id]
    assert studio.feed(username="nobody") == []
    with pytest.raises(RequestError):
        studio.remix(a.id, "   ")


def test_passwords_are_salted_hashes_and_checked(home):
    store = open_store()
    user = accounts.create_account(store, "Carol", "s3cret-pass")
    assert user.username == "carol" and user.provider == "password"
    with store.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "carol"))
    assert "s3cret-pass" not in stored and stored.startswith("scrypt$")
    assert accounts.hash_password("s3cret-pass") != accounts.hash_password("s3cret-pass")  # per-user salt
    assert accounts.authenticate(store, "carol", "s3cret-pass").id == user.id
    for name, password in (("carol", "wrong-pass"), ("nobody", "s3cret-pass")):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(store, name, password)
    with store.session() as s:
        trail = s.execute(select(AuditEntry.action, AuditEntry.subject).where(AuditEntry.action.like("account.sign_in%"))
                          .order_by(AuditEntry.id)).all()
    assert [tuple(t) for t in trail] == [("account.sign_in", "carol"), ("account.sign_in_failed", "carol"),
                                         ("account.sign_in_failed", "nobody")]
    with store.session() as s:
        details = [str(d) for d in s.scalars(select(AuditEntry.details))]
    assert not any("s3cret-pass" in d or "wrong-pass" in d for d in details)
    with pytest.raises(accounts.AccountError, match="taken"):
        accounts.create_account(store, "carol", "another-pass")
    for name, password in (("x", "long enough"), ("local", "long enough"), ("dave", "short")):
        with pytest.raises(accounts.AccountError):
            accounts.create_account(store, name, password)
    hf = accounts.user_from_hf_profile(store, {"preferred_username": "carol", "name": "Carol HF"})
    assert hf.username == "hf:carol" and hf.id != user.id
    assert accounts.user_from_hf_profile(store, {"preferred_username": "carol"}).id == hf.id


def test_storyboard_passes_shots_and_records_cuts(home):
    studio = Studio()
    shots = shots_from_table([["a red ball", "static", 1], ["it rolls", "follow", None], ["", "", None]])
    assert [s["seconds"] for s in shots] == [1.0, 2.0]
    record = studio.storyboard(shots, engine="fake", width=128, height=128, fps=8)
    assert record.request["seconds"] == 3.0
    assert [s["camera"] for s in record.info["shots"]] == ["static", "follow"]
    with pytest.raises(RequestError):
        studio.storyboard([])
    with pytest.raises(RequestError):
        shots_from_table([["a ball", "static", "soon"]])


def test_bad_uploads_are_refused_and_nothing_is_stored(home, tmp_path):
    studio = Studio()
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    renamed = tmp_path / "video.png"
    renamed.write_bytes(open(studio.generate(small()).video_path, "rb").read())
    for path in (corrupt, renamed, tmp_path / "missing.png"):
        with pytest.raises(MediaError):
            studio.generate(small(image=str(path)))
    assert len(studio.feed()) == 1
    with pytest.raises(RequestError):
        studio.generate(small("x" * 10_000))
    with pytest.raises(RequestError):
        studio.generate(small(width=100_000))
    assert len(studio.feed()) == 1


def test_an_accepted_image_is_kept_with_the_clip(home, tmp_path):
    from PIL import Image

    still = tmp_path / "still.jpg"
    Image.new("RGB", (160, 120), (200, 30, 30)).save(still)
    studio = Studio()
    record = studio.generate(small("a ball in front of a red wall", image=str(still)))
    kept = record.request["image"]
    assert kept.startswith(str(home / "inputs")) and Image.open(kept).size == (160, 120)
    assert time.time() - record.created_at < 600

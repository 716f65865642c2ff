"""Issue 17 in the library: search, the Inspiration feed, visibility and share links, shared projects, and the
schema migration of an older database. Clips are rows inserted directly (tests/social_fixtures.py)."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter

import numpy as np
import pytest
from social_fixtures import fill_store

from sora_lite import accounts
from sora_lite import feed as clip_feed
from sora_lite.social import projects, ranking, search, sharing
from sora_lite.social.embeddings import HashedWords, clip_vectors
from sora_lite.store import AuditEntry, ClipEmbedding, ClipRow, open_store


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    home = tmp_path_factory.mktemp("social")
    store = open_store(f"sqlite:///{home / 'db.sqlite'}", home=home)
    return store, fill_store(store)


def audit(store, action: str) -> list[AuditEntry]:
    from sqlalchemy import select

    with store.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- search ---------------------------------------------------------------------------------------------------

QUERIES = ["red balls", "dominoes", "pendulum night", "planet", "taxis neon", "marble ramp sunset", "BILLIARD",
           "pine forest leaves", "tower", "orbit", "nothing-like-this", "sail*", "close up blue"]


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES)
def test_search_returns_exactly_the_matching_public_clips_fast(filled, query):
    store, data = filled
    terms = search.query_terms(query)
    expected = {c.id for c in data.clips if c.visibility == "public" and search.matches(c.prompt, terms)}
    search.search(store, query)  # warm
    times = []
    for _ in range(5):  # the median of 5: one call on a busy shared box can wait behind other processes
        t0 = time.perf_counter()
        result = search.search(store, query, limit=200)
        times.append((time.perf_counter() - t0) * 1000)
    elapsed_ms = sorted(times)[2]
    assert set(result.ids()) == expected
    assert len(result.ids()) == len(expected)  # no duplicates
    assert result.backend == "fts5"
    assert elapsed_ms <= 100, f"{query!r} took {elapsed_ms:.1f} ms"


def test_search_matches_whole_words_not_substrings(filled):
    store, data = filled
    assert search.search(store, "ball").ids() == []  # "balls" and "billiard ball" are other words
    assert set(search.search(store, "ball*", limit=200).ids()) == {
        c.id for c in data.clips if c.visibility == "public" and any(w.startswith("ball") for w in search.prompt_words(c.prompt))}


def test_search_filters(filled):
    store, data = filled
    public = [c for c in data.clips if c.visibility == "public"]
    maker3 = data.users[3]
    by = search.search(store, "", filters=search.Filters(creator="maker3"), limit=200)
    assert set(by.ids()) == {c.id for c in public if c.user_id == maker3.id} and by.ids()
    cameo = search.search(store, "", filters=search.Filters.from_values(cameo="@Maker1"), limit=200)
    assert set(cameo.ids()) == {c.id for c in public if c.cameos.strip() == "maker1"} and cameo.ids()
    engine = search.search(store, "", filters=search.Filters(engine="world"), limit=200)
    assert set(engine.ids()) == {c.id for c in public if c.engine == "world"}
    silent = search.search(store, "", filters=search.Filters.from_values(has_sound="no"), limit=200)
    assert set(silent.ids()) == {c.id for c in public if c.has_sound is False} and silent.ids()
    parent = Counter(c.parent_id for c in public if c.parent_id).most_common(1)[0][0]
    remixes = search.search(store, "", filters=search.Filters(remix_of=parent), limit=200)
    assert set(remixes.ids()) == {c.id for c in public if c.parent_id == parent}
    both = search.search(store, "balls", filters=search.Filters(creator="maker0", has_sound=True), limit=200)
    assert set(both.ids()) == {c.id for c in public if c.user_id == data.users[0].id and c.has_sound
                               and search.matches(c.prompt, ["balls"])}


def test_search_input_errors_are_clear(filled):
    store, _ = filled
    with pytest.raises(search.SearchError, match="no creator named"):
        search.search(store, "", filters=search.Filters(creator="nobody-here"))
    with pytest.raises(search.SearchError, match="has_sound must be"):
        search.Filters.from_values(has_sound="maybe")
    with pytest.raises(search.SearchError, match="at most"):
        search.search(store, " ".join(["word"] * 40))
    # FTS5 syntax in a query is just words, never an operator or a column filter
    assert search.search(store, 'prompt: "red" OR NEAR(x y) AND -') is not None


def test_search_shows_hidden_clips_to_their_creator_only(filled):
    store, data = filled
    private = next(c for c in data.clips if c.visibility == "private")
    owner = next(u for u in data.users if u.id == private.user_id)
    other = next(u for u in data.users if u.id != private.user_id)
    word = search.query_terms(private.prompt)[0]
    assert private.id in search.search(store, word, viewer=owner, limit=200).ids()
    assert private.id not in search.search(store, word, viewer=other, limit=200).ids()
    assert private.id not in search.search(store, word, viewer=None, limit=200).ids()


def test_creator_and_cameo_pages(filled, monkeypatch):
    store, data = filled
    page = search.creator_page(store, "maker2", viewer=data.users[5])
    assert {c.user for c in page.clips} == {"maker2"}
    assert all(c.id in {x.id for x in data.clips if x.visibility == "public"} for c in page.clips)
    own = search.creator_page(store, "maker2", viewer=data.users[2])
    assert len(own.clips) >= len(page.clips)
    with pytest.raises(LookupError):
        search.creator_page(store, "nobody-here")


# --- the Inspiration feed ---------------------------------------------------------------------------------------

def clusters_in(store, clips, threshold: float = 0.5) -> int:
    """Distinct prompt clusters among `clips`: average-linkage clustering of every clip's hashed-word
    embedding, cut at cosine distance `threshold` (the same method bench/feed.py uses with MiniLM)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    with store.session() as s:
        rows = s.query(ClipRow.id, ClipRow.prompt).filter(ClipRow.visibility == "public").all()
    ids = [r[0] for r in rows]
    vectors = HashedWords()([r[1] for r in rows])
    labels = dict(zip(ids, fcluster(linkage(vectors, "average", metric="cosine"), threshold, "distance")))
    return len({labels[c.id] for c in clips})


def test_inspiration_covers_twice_the_clusters_with_at_most_three_per_creator(filled):
    store, data = filled
    now = max(c.created_ts for c in data.clips)
    newest = ranking.ranked_feed(store, "newest", limit=20)
    inspired = ranking.ranked_feed(store, "inspiration", limit=20, embedder=HashedWords(), now=now)
    assert len(inspired.clips) == 20 and inspired.embedder == HashedWords.name
    themes_new = {c.info["theme"] for c in newest.clips}
    themes_insp = {c.info["theme"] for c in inspired.clips}
    assert len(themes_insp) >= 2 * len(themes_new)
    assert clusters_in(store, inspired.clips) >= 2 * clusters_in(store, newest.clips)
    assert max(Counter(c.user for c in inspired.clips).values()) <= 3
    assert all(c.id in {x.id for x in data.clips if x.visibility == "public"} for c in inspired.clips)
    second = ranking.ranked_feed(store, "inspiration", limit=20, offset=20, embedder=HashedWords(), now=now)
    assert not {c.id for c in second.clips} & {c.id for c in inspired.clips}
    assert max(Counter(c.user for c in second.clips).values()) <= 3


def test_embeddings_are_cached_per_embedder(filled):
    store, data = filled
    calls = []

    def counting(texts):
        calls.append(len(texts))
        return HashedWords()(texts)

    counting.name = "counting-test"
    prompts = {c.id: c.prompt for c in data.clips[:5]}
    first = clip_vectors(store, prompts, counting)
    again = clip_vectors(store, prompts, counting)
    assert calls == [5] and all(np.allclose(first[k], again[k]) for k in prompts)
    with store.session() as s:
        assert s.query(ClipEmbedding).filter(ClipEmbedding.model == "counting-test").count() == 5


def test_mmr_prefers_variety_and_remix_invitations():
    settings = ranking.RankingSettings(per_creator=3, page=20)
    vectors = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], np.float32)
    base = np.array([1.0, 0.99, 0.98, 0.5])
    order = ranking.mmr_order(base, vectors, ["a", "b", "c", "d"], settings, 4)
    assert order[:2] == [0, 3]  # the different prompt comes second despite a lower base score
    capped = ranking.mmr_order(np.array([1.0, 0.9, 0.8, 0.7, 0.1]), np.eye(5, dtype=np.float32),
                               ["a", "a", "a", "a", "b"], settings, 5)
    assert capped[:4] == [0, 1, 2, 4]  # a's fourth clip waits for b's


def test_mode_is_checked():
    with pytest.raises(ValueError, match="feed mode"):
        ranking.check_mode("likes")


# --- visibility and links ---------------------------------------------------------------------------------------

@pytest.fixture
def small(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}", home=tmp_path)
    data = fill_store(store, n_users=3, n_clips=12, hidden=False)
    return store, data


def test_visibility_and_links(small, tmp_path):
    store, data = small
    owner = data.users[0]
    other = data.users[1]
    clip = next(c for c in data.clips if c.user_id == owner.id)
    video = tmp_path / f"{clip.id}.mp4"
    video.write_bytes(b"not really a video")
    with store.session() as s:
        s.get(ClipRow, clip.id).video_path = str(video)
    link = sharing.share_link(store, owner, clip.id, "http://host:7860/")
    clip_id, token = sharing.link_params({"clip": clip.id, "k": link.url.split("k=")[1]})
    assert clip_id == clip.id and token and link.url.startswith("http://host:7860/?clip=")
    assert 'src="http://host:7860/?clip=' in link.embed_html

    sharing.set_visibility(store, owner, clip.id, "unlisted")
    with pytest.raises(clip_feed.ClipNotFound):
        sharing.open_clip(store, clip.id, other)  # without the link
    opened = sharing.open_clip(store, clip.id, other, token)
    assert opened.id == clip.id
    assert not video.exists() and opened.video_path != str(video)  # the old file URL is gone
    assert clip.id not in [c.id for c in clip_feed.list_feed(store, limit=200)]

    sharing.set_visibility(store, owner, clip.id, "private")
    with pytest.raises(clip_feed.ClipNotFound) as hidden:
        sharing.open_clip(store, clip.id, other, token)
    with pytest.raises(clip_feed.ClipNotFound) as missing:
        sharing.open_clip(store, "0123456789abcdef", other)
    assert str(hidden.value).replace(clip.id, "X") == str(missing.value).replace("0123456789abcdef", "X")
    assert sharing.open_clip(store, clip.id, owner).id == clip.id

    with pytest.raises(clip_feed.ClipNotFound):
        sharing.set_visibility(store, other, clip.id, "public")  # cannot even see it: answered as missing
    sharing.set_visibility(store, owner, clip.id, "unlisted")
    with pytest.raises(clip_feed.ClipNotFound):
        sharing.reset_link(store, other, clip.id)  # unlisted, and the stranger has no link
    new_token = sharing.reset_link(store, owner, clip.id)
    with pytest.raises(clip_feed.ClipNotFound):
        sharing.open_clip(store, clip.id, other, token)  # the old link ends
    assert sharing.open_clip(store, clip.id, other, new_token).id == clip.id
    assert {e.details["to"] for e in audit(store, "clip.visibility")} >= {"unlisted", "private"}

    clip_feed.delete_clip(store, clip.id, owner)
    with pytest.raises(sharing.ClipDeleted, match="deleted"):
        sharing.open_clip(store, clip.id, other, new_token)
    with pytest.raises(ValueError, match="visibility must be"):
        sharing.set_visibility(store, owner, clip.id, "friends")


def test_someone_elses_public_clip_cannot_change_visibility(small):
    store, data = small
    theirs = next(c for c in data.clips if c.user_id == data.users[1].id)
    with pytest.raises(clip_feed.NotOwner, match="only its creator"):
        sharing.set_visibility(store, data.users[0], theirs.id, "private")
    assert audit(store, "clip.visibility_refused")


def test_remix_needs_visibility_and_an_open_clip(small):
    store, data = small
    owner, other = data.users[0], data.users[1]
    clip = next(c for c in data.clips if c.user_id == owner.id)
    sharing.check_remix(store, clip.id, other)
    sharing.set_visibility(store, owner, clip.id, "public", remix_open=False)
    with pytest.raises(clip_feed.NotOwner, match="not opened it to remixes"):
        sharing.check_remix(store, clip.id, other)
    sharing.check_remix(store, clip.id, owner)  # the creator may always
    sharing.set_visibility(store, owner, clip.id, "private", remix_open=True)
    with pytest.raises(clip_feed.ClipNotFound):
        sharing.check_remix(store, clip.id, other)


def test_lineage_hides_clips_that_are_not_public(small):
    store, data = small
    child = next(c for c in data.clips if c.parent_id)
    parent = next(c for c in data.clips if c.id == child.parent_id)
    owner = next(u for u in data.users if u.id == parent.user_id)
    sharing.set_visibility(store, owner, parent.id, "private")
    stranger = next(u for u in data.users if u.id != parent.user_id)
    seen = clip_feed.lineage(store, child.id, viewer_id=stranger.id)
    assert seen.ancestors[0].hidden and seen.ancestors[0].id == "" and parent.prompt not in clip_feed.lineage_markdown(seen)
    assert clip_feed.lineage(store, child.id, viewer_id=owner.id).ancestors[0].id == parent.id


# --- shared projects ---------------------------------------------------------------------------------------------

def test_project_permissions_history_and_revocation(small):
    store, data = small
    owner, friend, stranger = data.users
    view = projects.create_project(store, owner, "Marble run")
    pid = view.id
    projects.add_shot(store, owner, pid, "a red marble rolls down a ramp", "follow", 2)
    with pytest.raises(projects.ProjectDenied):
        projects.add_shot(store, friend, pid, "not invited yet", "static", 2)
    projects.invite(store, owner, pid, "maker1")
    view = projects.add_shot(store, friend, pid, "the marble hits a cube", "static", 1.5)
    shot = view.shots[1].id
    view = projects.edit_shot(store, friend, pid, shot, prompt="the marble knocks over a blue cube")
    assert view.shots[1].prompt == "the marble knocks over a blue cube" and view.shots[1].updated_by == "maker1"
    assert [(e.user, e.action) for e in view.history] == [("maker0", "add"), ("maker1", "add"), ("maker1", "edit")]
    assert view.history[-1].before["prompt"] == "the marble hits a cube"

    for attempt in (lambda: projects.get_project(store, stranger, pid),
                    lambda: projects.edit_shot(store, stranger, pid, shot, prompt="vandalism"),
                    lambda: projects.invite(store, friend, pid, "maker2"),  # only the owner invites
                    lambda: projects.revoke(store, friend, pid, "maker0"),
                    lambda: projects.render_project(type("S", (), {"store": store})(), friend, pid)):
        with pytest.raises(projects.ProjectDenied):
            attempt()
    assert projects.get_project(store, owner, pid).shots[1].prompt == "the marble knocks over a blue cube"
    assert len(audit(store, "project.denied")) >= 6

    projects.revoke(store, owner, pid, "maker1")
    with pytest.raises(projects.ProjectDenied):
        projects.edit_shot(store, friend, pid, shot, prompt="after revocation")
    assert projects.list_projects(store, friend) == []
    assert projects.contributors(store, pid) == ["maker0", "maker1"]  # a past contributor stays credited
    assert {e.action for e in audit(store, "project.invite") + audit(store, "project.revoke")} == {"project.invite", "project.revoke"}
    with pytest.raises(Exception, match="seconds|lasts"):
        projects.add_shot(store, owner, pid, "too long a shot", "static", 999)


def test_guests_cannot_own_or_join_projects(small):
    store, data = small
    guest = accounts.guest_user(store, "0123456789abcdef0123")
    with pytest.raises(projects.ProjectDenied, match="sign in"):
        projects.create_project(store, guest, "mine")
    pid = projects.create_project(store, data.users[0], "open").id
    with pytest.raises(LookupError, match="need an account"):
        projects.invite(store, data.users[0], pid, guest.username)


# --- migrating a database made before issue 17 -------------------------------------------------------------------

def test_an_older_database_gains_the_new_columns_and_search_index(tmp_path):
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username VARCHAR(96) UNIQUE, display_name VARCHAR(200),
                            provider VARCHAR(16), password_hash VARCHAR(400), created_at DATETIME);
        CREATE TABLE clips (id VARCHAR(32) PRIMARY KEY, user_id INTEGER REFERENCES users(id),
                            parent_id VARCHAR(32) REFERENCES clips(id), prompt TEXT, spec JSON, seed BIGINT,
                            engine VARCHAR(200), request JSON, info JSON, timings JSON, video_path VARCHAR(1000),
                            thumbnail_path VARCHAR(1000), ground_truth_path VARCHAR(1000), created_at DATETIME,
                            created_ts FLOAT, deleted_at DATETIME);
        INSERT INTO users(username, display_name, provider) VALUES ('old', 'old', 'password');
        INSERT INTO clips(id, user_id, prompt, seed, engine, request, info, timings, video_path, created_at, created_ts)
            VALUES ('0123456789abcdef', 1, 'an old green cube slides', 0, 'world', '{}', '{}', '{}', '/x.mp4', '2026-01-01', 1.0);
    """)
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{db}", home=tmp_path)
    with store.session() as s:
        row = s.get(ClipRow, "0123456789abcdef")
        assert (row.visibility, row.remix_open, row.has_sound, row.cameos) == ("public", True, None, "")
    assert search.search(store, "green cube").ids() == ["0123456789abcdef"]
    assert [c.id for c in clip_feed.list_feed(store)] == ["0123456789abcdef"]
    open_store(f"sqlite:///{db}", home=tmp_path)  # a second start changes nothing and does not fail
    assert search.search(store, "green cube").ids() == ["0123456789abcdef"]


def test_cameo_page_follows_the_cameos_permissions(filled):
    from datetime import timedelta

    from sora_lite.store import Cameo, CameoGrant, utcnow

    store, data = filled
    owner, approved, stranger = data.users[1], data.users[4], data.users[6]
    earlier = utcnow() - timedelta(hours=1)
    with store.session() as s:
        s.add(Cameo(id="cameo-maker1", user_id=owner.id, name="maker1", created_at=earlier,
                    details={"visibility": "approved", "verification": {"status": "verified"}}))
        s.add(CameoGrant(cameo_id="cameo-maker1", grantee_id=approved.id, created_at=earlier,
                         details={"status": "approved", "approved_at": earlier.isoformat()}))
    used = {c.id for c in data.clips if c.cameos.strip() == "maker1" and c.visibility == "public"}
    assert {c.id for c in search.cameo_page(store, "@maker1", viewer=approved).clips} == used
    assert {c.id for c in search.cameo_page(store, "maker1", viewer=owner).clips} >= used
    with pytest.raises(PermissionError, match="visible to its owner"):
        search.cameo_page(store, "maker1", viewer=stranger)
    with pytest.raises(PermissionError):
        search.cameo_page(store, "maker1", viewer=None)
    page = search.creator_page(store, "maker1", viewer=stranger)
    assert [c["handle"] for c in page.cameos] == ["maker1"]  # others may ask for it
    with store.session() as s:
        s.get(Cameo, "cameo-maker1").details = {"visibility": "only_me", "verification": {"status": "verified"}}
    with pytest.raises(PermissionError):
        search.cameo_page(store, "maker1", viewer=approved)
    assert search.creator_page(store, "maker1", viewer=stranger).cameos == []
    with pytest.raises(LookupError):
        search.cameo_page(store, "@nobody_here", viewer=owner)


def test_search_without_fts5_gives_the_same_results(filled, monkeypatch):
    """Where the database is not SQLite (SORA_LITE_DB elsewhere) a LIKE pre-filter stands in for FTS5; the
    tokenizer's check keeps the results identical."""
    store, _ = filled
    expected = {q: search.search(store, q, limit=200).ids() for q in QUERIES}
    monkeypatch.setattr(search, "has_search_index", lambda engine: False)
    for query in QUERIES:
        result = search.search(store, query, limit=200)
        assert result.backend == "like" and result.ids() == expected[query], query

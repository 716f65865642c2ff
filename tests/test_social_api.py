"""Issue 17 through the named API (gradio_client) against the app in multi-user mode: search, pages, the feed's
two orders, share links and visibility, shared projects; and the attacks: a second user trying to see a
private or unlisted clip without its link, or to edit a project they were not invited to."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import pytest

gradio_client = pytest.importorskip("gradio_client")
from fake_engine import register
from gradio_client import Client
from security_server import served

from sora_lite.store import AuditEntry

pytestmark = pytest.mark.slow
register()

ENDPOINTS = {"/feed", "/feed_ranked", "/search", "/creator_page", "/cameo_page", "/open", "/open_link", "/share_link",
             "/set_visibility", "/reset_link", "/project_create", "/project_invite", "/project_revoke", "/project_open",
             "/project_add_shot", "/project_edit", "/project_remove_shot", "/project_render", "/project_list"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    old = os.environ.get("SORA_LITE_FEED_EMBEDDER")
    os.environ["SORA_LITE_FEED_EMBEDDER"] = "hash"  # no sentence model load in this test server
    home = tmp_path_factory.mktemp("home")
    try:
        with served(home) as (demo, studio):
            yield demo.local_url, studio
    finally:
        if old is None:
            os.environ.pop("SORA_LITE_FEED_EMBEDDER", None)
        else:
            os.environ["SORA_LITE_FEED_EMBEDDER"] = old


def signed_up(url: str, name: str) -> Client:
    c = Client(url, verbose=False)
    c.predict(name, f"{name}-password-1", api_name="/sign_up")
    return c


@pytest.fixture(scope="module")
def people(server):
    url, _ = server
    return {name: signed_up(url, name) for name in ("alice", "bob", "mallory")}


def generate(c: Client, prompt: str) -> dict:
    _, record, _ = c.predict(prompt, None, "fake", 1, "128x128", 8, 1, False, "", api_name="/generate")
    return record


def audit(studio, action: str) -> list[AuditEntry]:
    from sqlalchemy import select

    with studio.store.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def ids(records) -> list[str]:
    return [r["id"] for r in records]


def test_named_endpoints_are_listed(server):
    info = Client(server[0], verbose=False).view_api(return_format="dict", print_info=False)
    assert ENDPOINTS <= set(info["named_endpoints"])


def test_search_pages_and_feed_orders(server, people):
    alice, bob = people["alice"], people["bob"]
    first = generate(alice, "a zebra striped cube tumbles")
    second = generate(alice, "a violet sphere rolls under a zebra striped arch")
    _, found, summary = bob.predict("zebra striped", "", "", "", "any", "", 50, api_name="/search")
    assert set(ids(found)) == {first["id"], second["id"]} and "clips" in summary
    _, found, _ = bob.predict("violet", "alice", "", "fake", "yes", "", 50, api_name="/search")
    assert ids(found) == [second["id"]]
    _, found, _ = bob.predict("violet", "", "", "", "no", "", 50, api_name="/search")
    assert ids(found) == []
    _, page, text = bob.predict("alice", api_name="/creator_page")
    assert {first["id"], second["id"]} <= set(ids(page)) and "alice" in text
    _, feed = bob.predict(48, "newest", api_name="/feed_ranked")
    assert ids(feed)[:2] == [second["id"], first["id"]]
    _, feed = bob.predict(48, "inspiration", api_name="/feed_ranked")
    assert {first["id"], second["id"]} <= set(ids(feed))
    with pytest.raises(Exception, match="choices"):  # there is no likes-driven order to ask for
        bob.predict(48, "most-liked", api_name="/feed_ranked")
    with pytest.raises(Exception, match="choices"):
        bob.predict("x", "", "", "", "loud", "", 50, api_name="/search")


def test_share_links_visibility_and_attacks(server, people):
    url, studio = server
    alice, bob, mallory = people["alice"], people["bob"], people["mallory"]
    clip = generate(alice, "a secret teal pyramid spins")
    link, embed, download, note = alice.predict(clip["id"], api_name="/share_link")
    query = parse_qs(urlparse(link).query)
    assert query["clip"] == [clip["id"]] and query["k"][0] and link.startswith(url.rstrip("/"))
    assert "<iframe" in embed and clip["id"] in embed and "Anyone" in note

    from sora_lite.provenance import verify_file

    report = verify_file(download)  # the downloaded file keeps its C2PA manifest
    assert report.c2pa.state == "valid" and report.c2pa.claims.get("clip_id") == clip["id"]

    assert alice.predict(clip["id"], "unlisted", True, api_name="/set_visibility")["visibility"] == "unlisted"
    # --- bob, without the link: the clip is nowhere -----------------------------------------------------------
    with pytest.raises(Exception, match="no clip"):
        bob.predict(clip["id"], api_name="/open")
    with pytest.raises(Exception, match="no clip"):
        bob.predict(clip["id"], "", api_name="/open_link")
    with pytest.raises(Exception, match="no clip"):
        bob.predict(clip["id"], "guessed-token", api_name="/open_link")
    with pytest.raises(Exception, match="no clip"):
        bob.predict(clip["id"], api_name="/share_link")
    assert clip["id"] not in ids(bob.predict("teal pyramid", "", "", "", "any", "", 50, api_name="/search")[1])
    assert clip["id"] not in ids(bob.predict(200, "newest", api_name="/feed_ranked")[1])
    assert clip["id"] not in ids(bob.predict(200, "inspiration", api_name="/feed_ranked")[1])
    assert clip["id"] not in ids(bob.predict(200, api_name="/feed")[1])
    assert clip["id"] not in ids(bob.predict("alice", api_name="/creator_page")[1])
    with pytest.raises(Exception, match="cannot remix|no clip"):
        bob.predict(clip["id"], "now it is red", "", api_name="/remix")
    with pytest.raises(Exception, match="no clip"):
        bob.predict(clip["id"], "public", True, api_name="/set_visibility")
    # --- with the link ------------------------------------------------------------------------------------------
    video, record, lineage, status, *_ = bob.predict(clip["id"], query["k"][0], api_name="/open_link")
    assert record["id"] == clip["id"] and "teal pyramid" in status
    # --- private: not even the link works for others ---------------------------------------------------------------
    alice.predict(clip["id"], "private", True, api_name="/set_visibility")
    for attacker in (bob, mallory):
        with pytest.raises(Exception, match="no clip"):
            attacker.predict(clip["id"], query["k"][0], api_name="/open_link")
        with pytest.raises(Exception, match="no clip"):
            attacker.predict(clip["id"], api_name="/open")
    assert alice.predict(clip["id"], api_name="/open")[1]["id"] == clip["id"]
    # --- the creator ends old links ------------------------------------------------------------------------------
    alice.predict(clip["id"], "unlisted", True, api_name="/set_visibility")
    new_link, *_ = alice.predict(clip["id"], api_name="/reset_link")
    with pytest.raises(Exception, match="no clip"):
        bob.predict(clip["id"], query["k"][0], api_name="/open_link")
    new_token = parse_qs(urlparse(new_link).query)["k"][0]
    assert bob.predict(clip["id"], new_token, api_name="/open_link")[1]["id"] == clip["id"]
    # --- deleted: the link says so -------------------------------------------------------------------------------
    alice.predict(clip["id"], api_name="/delete")
    with pytest.raises(Exception, match="deleted"):
        bob.predict(clip["id"], new_token, api_name="/open_link")
    assert audit(studio, "clip.visibility")


def test_shared_project_collaboration_and_attacks(server, people):
    url, studio = server
    alice, bob, mallory = people["alice"], people["bob"], people["mallory"]
    view, table, pid = alice.predict("Marble run", api_name="/project_create")
    assert view["owner"] == "alice" and pid == view["id"]
    view, _ = alice.predict(pid, "a red marble rolls down a ramp", "follow", 1, api_name="/project_add_shot")
    first_shot = view["shots"][0]["id"]
    # bob is not invited yet: he can neither see nor edit
    with pytest.raises(Exception, match="no project"):
        bob.predict(pid, api_name="/project_open")
    with pytest.raises(Exception, match="no project"):
        bob.predict(pid, first_shot, "bob was here", "static", 1, api_name="/project_edit")
    with pytest.raises(Exception, match="no project"):
        bob.predict(pid, "bob's shot", "static", 1, api_name="/project_add_shot")
    alice.predict(pid, "bob", api_name="/project_invite")
    view, _ = bob.predict(pid, "the marble knocks over a blue cube", "static", 1, api_name="/project_add_shot")
    bob_shot = view["shots"][1]["id"]
    view, table = bob.predict(pid, first_shot, "a red marble races down a long ramp", "", None, api_name="/project_edit")
    assert view["shots"][0]["prompt"] == "a red marble races down a long ramp" and view["shots"][0]["updated_by"] == "bob"
    assert [(h["user"], h["action"]) for h in view["history"]] == [("alice", "add"), ("bob", "add"), ("bob", "edit")]
    # mallory was never invited; bob may not invite, revoke or render
    with pytest.raises(Exception, match="no project"):
        mallory.predict(pid, bob_shot, "vandalised", "static", 1, api_name="/project_edit")
    with pytest.raises(Exception, match="no project"):
        mallory.predict(pid, bob_shot, api_name="/project_remove_shot")
    with pytest.raises(Exception, match="only the owner of the project"):
        bob.predict(pid, "mallory", api_name="/project_invite")
    with pytest.raises(Exception, match="only the owner of the project"):
        bob.predict(pid, "fake", "128x128", 8, 1, api_name="/project_render")
    assert [p["id"] for p in bob.predict(api_name="/project_list")] == [pid]
    assert mallory.predict(api_name="/project_list") == []

    video, record = alice.predict(pid, "fake", "128x128", 8, 1, api_name="/project_render")
    assert record["info"]["project"]["contributors"] == ["alice", "bob"]
    assert record["request"]["options"]["contributors"] == ["alice", "bob"]
    from sora_lite.provenance import verify_file

    claims = verify_file(studio.get(record["id"]).video_path).c2pa.claims
    assert claims.get("contributors") == ["alice", "bob"]

    alice.predict(pid, "bob", api_name="/project_revoke")
    with pytest.raises(Exception, match="no project"):
        bob.predict(pid, bob_shot, "after revocation", "", None, api_name="/project_edit")
    assert alice.predict(pid, api_name="/project_open")[0]["shots"][1]["prompt"] == "the marble knocks over a blue cube"
    denied = audit(studio, "project.denied")
    assert {d.details["action"] for d in denied} >= {"open", "edit_shot", "add_shot", "remove_shot", "invite", "render"}

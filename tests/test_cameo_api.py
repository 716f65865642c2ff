"""Cameo grants through the HTTP API (gradio_client) as two signed-in users; forged ids and replays refused."""

from __future__ import annotations


import pytest
from app_server import served_app

pytest.importorskip("dlib", reason="the cameo face detector needs dlib-bin")
pytest.importorskip("skimage", reason="the test face comes from scikit-image")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

import cameo_fixtures as fx  # noqa: E402

ENDPOINTS = {"/cameo_register", "/cameo_visibility", "/cameo_request_access", "/cameo_requests", "/cameo_approve",
             "/cameo_deny", "/cameo_revoke", "/cameo_list_grants", "/cameo_my_clips", "/cameo_delete_clip",
             "/cameo_challenge", "/cameo_verify", "/cameo_delete", "/sign_in", "/sign_up"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with served_app(home) as (demo, studio):
        yield demo.local_url, studio, tmp_path_factory.mktemp("files")


def signed_up(url: str, name: str) -> Client:
    client = Client(url, verbose=False)
    client.predict(name, f"{name}-password", api_name="/sign_up")
    return client


@pytest.mark.slow
def test_grant_deny_revoke_as_two_users_with_forgeries_and_replays_refused(served):
    url, studio, files = served
    from sora_lite.cameo import grants

    info = Client(url, verbose=False).view_api(return_format="dict", print_info=False)
    assert ENDPOINTS <= set(info["named_endpoints"])
    for name in ENDPOINTS - {"/sign_in", "/sign_up"}:  # no endpoint takes a user: identity is the session's
        params = {p["parameter_name"] for p in info["named_endpoints"][name]["parameters"]}
        assert not params & {"user", "user_id", "username", "owner", "session", "profile"}, (name, params)

    alice, bob = signed_up(url, "alice"), signed_up(url, "bob")
    photo = fx.save(fx.astronaut(), files / "alice.png")
    cameo = alice.predict("@alice", [handle_file(str(photo))], None, None, "Alice", api_name="/cameo_register")
    assert cameo["owner"] == "alice" and cameo["visibility"] == "only_me"
    with pytest.raises(Exception, match="only its owner"):  # bob cannot open alice's cameo
        bob.predict("alice", "everyone", api_name="/cameo_visibility")
    with pytest.raises(Exception, match="not verified"):  # a photo alone does not make a usable cameo
        grants.check_use(studio.store, "alice", studio_user(studio, "alice"))
    challenge = alice.predict("alice", api_name="/cameo_challenge")  # verified through the API, the real checks
    recording = fx.live_recording(fx.astronaut(), challenge["turn"], files / "live.mp4")
    verified = alice.predict("alice", handle_file(str(recording)), api_name="/cameo_verify")
    assert verified["status"] == "verified", verified["summary"]
    alice.predict("alice", "approved", api_name="/cameo_visibility")

    request = bob.predict("@alice", api_name="/cameo_request_access")
    assert request["requester"] == "bob" and request["nonce"] == ""
    with pytest.raises(Exception, match="for someone else"):  # bob approving his own request as if he were alice
        bob.predict(request["id"], "anything", api_name="/cameo_approve")
    assert bob.predict(api_name="/cameo_requests") == []  # bob sees no tokens for alice's cameo
    pending = alice.predict(api_name="/cameo_requests")
    assert [(p["requester"], p["id"]) for p in pending] == [("bob", request["id"])]
    granted = alice.predict(request["id"], pending[0]["nonce"], api_name="/cameo_approve")
    assert granted["user"] == "bob" and granted["kind"] == "approved"
    with pytest.raises(Exception, match="already answered"):  # the same approval sent again
        alice.predict(request["id"], pending[0]["nonce"], api_name="/cameo_approve")
    assert grants.check_use(studio.store, "alice", studio_user(studio, "bob")).kind == "approved"

    alice.predict("alice", "bob", api_name="/cameo_revoke")
    with pytest.raises(Exception, match="already answered"):  # replaying the old approval after the revocation
        alice.predict(request["id"], pending[0]["nonce"], api_name="/cameo_approve")
    with pytest.raises(grants.CameoDenied, match="revoked"):
        grants.check_use(studio.store, "alice", studio_user(studio, "bob"))

    again = bob.predict("alice", api_name="/cameo_request_access")
    token = alice.predict(api_name="/cameo_requests")[0]["nonce"]
    assert alice.predict(again["id"], token, api_name="/cameo_deny")["status"] == "denied"
    with pytest.raises(Exception, match="already answered"):
        alice.predict(again["id"], token, api_name="/cameo_deny")
    listed = alice.predict("alice", api_name="/cameo_list_grants")
    assert listed["approved"] == [] and {r["status"] for r in listed["history"]} == {"revoked", "denied"}
    with pytest.raises(Exception):  # a user name smuggled in as an extra argument is not accepted
        bob.predict("alice", "bob", "alice", api_name="/cameo_list_grants")

    stranger = Client(url, verbose=False)  # not signed in: acts as the local user, who owns nothing here
    with pytest.raises(Exception, match="only its owner"):
        stranger.predict("alice", "bob", api_name="/cameo_revoke")

    actions = [e.action for e in audit(studio)]
    for action in ("cameo.register", "cameo.request", "cameo.approve", "cameo.approve.refused", "cameo.approve.replay",
                   "cameo.revoke", "cameo.deny", "cameo.deny.replay"):
        assert action in actions, action


def studio_user(studio, name: str):
    from sora_lite import accounts

    return accounts.get_user(studio.store, name)


def audit(studio):
    from sqlalchemy import select

    from sora_lite.store import AuditEntry

    with studio.store.session() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


@pytest.mark.slow
def test_registering_someone_elses_face_or_deleting_their_cameo_fails_over_http(served):
    """Attack 1 through the API: erin registers dave's photo re-saved as JPEG; then tries to delete his cameo."""
    import io

    from PIL import Image

    url, studio, files = served
    dave, erin = signed_up(url, "dave"), signed_up(url, "erin")
    photo = fx.save(fx.stranger_photo(), files / "dave.png")
    assert dave.predict("@dave", [handle_file(str(photo))], None, None, "Dave", api_name="/cameo_register")["handle"] == "dave"
    with pytest.raises(Exception, match="not verified yet"):  # photo only: refused before anything renders
        dave.predict("@dave waves next to a red ball", None, "world", 1, "128x128", 8, 0, False, "", api_name="/generate")
    buf = io.BytesIO()
    Image.open(photo).convert("RGB").save(buf, "JPEG", quality=80)
    (files / "copy.jpg").write_bytes(buf.getvalue())
    with pytest.raises(Exception, match="already registered as another person"):
        erin.predict("@erin", [handle_file(str(files / "copy.jpg"))], None, None, "", api_name="/cameo_register")
    with pytest.raises(Exception, match="only its owner"):
        erin.predict("dave", True, "dave", api_name="/cameo_delete")
    with pytest.raises(Exception, match="confirmation"):
        dave.predict("dave", True, "not-dave", api_name="/cameo_delete")
    mine = dave.predict(api_name="/cameo_mine")
    assert mine[0]["usable"] is False and [a["by"] for a in mine[0]["likeness_alerts"]] == ["erin"]
    gone = dave.predict("dave", True, "@dave", api_name="/cameo_delete")
    assert gone["cameo"]["deleted"] and gone["clips_deleted"] == []
    by = {e.action: e.user_id for e in audit(studio) if e.action.startswith("cameo.")}
    assert by["cameo.register.refused"] == studio_user(studio, "erin").id
    assert by["cameo.likeness_claimed"] == studio_user(studio, "dave").id
    assert by["cameo.delete.refused"] == studio_user(studio, "erin").id and by["cameo.delete"] == studio_user(studio, "dave").id

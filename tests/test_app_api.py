"""The app through its named API (gradio_client) against a real server on 127.0.0.1."""

from __future__ import annotations

import json

import av
import pytest
from app_server import served_app


gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

ENDPOINTS = {"/generate", "/storyboard", "/feed", "/open", "/remix", "/delete", "/parse", "/verify"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with served_app(home) as (demo, studio):
        yield Client(demo.local_url, verbose=False), studio, home


def video_path(value) -> str:
    return value["video"] if isinstance(value, dict) else value


def generate(client: Client, prompt: str = "a red ball bounces", **kw):
    args = {"prompt": prompt, "image": None, "engine": "world", "seconds": 1, "size": "128x128", "fps": 8, "seed": 3,
            "use_spec": False, "spec_json": "", **kw}
    return client.predict(*args.values(), api_name="/generate")


@pytest.mark.slow
def test_named_endpoints_are_listed(served):
    client, _, _ = served
    info = client.view_api(return_format="dict", print_info=False)
    assert ENDPOINTS <= set(info["named_endpoints"])


@pytest.mark.slow
def test_generate_remix_feed_lineage_and_delete(served):
    client, studio, home = served
    video, record, download = generate(client)
    assert record["engine"] == "world" and record["seed"] == 3 and record["id"]
    assert {"simulate", "render", "encode"} <= set(record["timings"])
    with av.open(video_path(video)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
    assert download.endswith(".mp4")

    _, child, lineage = client.predict(record["id"], "now the ball is blue", "", api_name="/remix")
    assert child["parent_id"] == record["id"]
    assert [o["color"] for o in child["spec"]["objects"]] == ["blue"]  # the parent's world, changed by the prompt
    assert child["request"]["parent_video"] == record["video_path"]
    assert record["id"] in lineage
    assert studio.get(child["id"]).parent_id == record["id"]

    _, feed = client.predict(48, api_name="/feed")
    ids = [r["id"] for r in feed]
    assert ids.index(child["id"]) < ids.index(record["id"])  # newest first, both listed
    _, opened, lineage = client.predict(record["id"], api_name="/open")
    assert opened["id"] == record["id"] and child["id"] in lineage

    assert client.predict(child["id"], api_name="/delete") == {"deleted": child["id"]}
    _, feed = client.predict(48, api_name="/feed")
    assert child["id"] not in [r["id"] for r in feed]


@pytest.mark.slow
def test_someone_elses_clip_cannot_be_deleted(served):
    from sora_lite import accounts
    from sora_lite.engines import GenerationRequest

    client, studio, _ = served
    bob = accounts.create_account(studio.store, "bob", "battery staple")
    theirs = studio.generate(GenerationRequest(prompt="bob's cube", engine="world", width=128, height=128, fps=8, seconds=1), user=bob)
    with pytest.raises(Exception, match="another user"):
        client.predict(theirs.id, api_name="/delete")
    assert studio.get(theirs.id).user == "bob"


@pytest.mark.slow
def test_storyboard_records_the_cuts(served):
    client, _, _ = served
    shots = {"headers": ["shot", "camera", "seconds"], "data": [["a red ball", "static", 1], ["it rolls away", "orbit", 1]]}
    video, record, _ = client.predict(shots, "world", "128x128", 8, 0, api_name="/storyboard")
    assert [s["camera"] for s in record["info"]["shots"]] == ["static", "orbit"]
    with av.open(video_path(video)) as container:
        assert container.streams.audio


@pytest.mark.slow
def test_parse_shows_used_and_ignored_words(served):
    client, _, _ = served
    spec_json, words = client.predict("two green balls on grass, quantum flux", "", api_name="/parse")
    spec = json.loads(spec_json)
    assert spec["objects"][0]["color"] == "green" and spec["objects"][0]["count"] == 2
    assert "quantum" in " ".join(words["ignored"]) and "green" in " ".join(words["used"])
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", "", api_name="/parse")


@pytest.mark.slow
def test_bad_inputs_are_errors_and_the_app_keeps_serving(served, tmp_path):
    client, studio, _ = served
    before = len(studio.feed(limit=200))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 20)
    renamed = tmp_path / "clip.png"
    renamed.write_bytes(open(studio.feed()[0].video_path, "rb").read())
    bad = [
        ({"prompt": ""}, "empty"),
        ({"prompt": "x" * 10_000}, "limit"),
        ({"size": "100000x100000"}, "width"),
        ({"size": "huge"}, "size"),
        ({"fps": 1000}, "fps|maximum"),
        ({"seed": -1}, "seed|minimum"),
        ({"engine": "no-such-model"}, "unknown engine"),
        ({"prompt": "a graphic beheading with gore everywhere"}, "content policy"),
        ({"use_spec": True, "spec_json": "{not json"}, "JSON"),
        ({"image": handle_file(str(corrupt))}, r"image|\.png"),
        ({"image": handle_file(str(renamed))}, r"image|\.png"),
    ]
    for kwargs, words in bad:
        with pytest.raises(Exception, match=words) as err:
            generate(client, **kwargs)
        assert "internal error" not in str(err.value), kwargs
    with pytest.raises(Exception):
        client.predict("no-such-clip", "a remix", "", api_name="/remix")
    assert len(studio.feed(limit=200)) == before
    _, record, _ = generate(client, prompt="still works")
    assert record["prompt"] == "still works"


@pytest.mark.slow
def test_verify_reports_c2pa_and_watermark_of_a_clip_made_here(served):
    client, studio, _ = served
    video, record, _ = generate(client, prompt="a yellow ball dropped from 1 metre", seconds=2, size="256x256", fps=24)
    # public records carry file names, not server paths (issue 13): verify the copy the client downloaded
    summary, report = client.predict(handle_file(video_path(video)), api_name="/verify")
    assert report["c2pa"]["state"] == "valid"
    assert report["c2pa"]["claims"]["clip_id"] == record["id"]
    assert report["watermark"]["found"] and report["watermark"]["matches_clip"] is True
    assert "valid" in summary

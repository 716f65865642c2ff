"""The Verify tab through the HTTP API: a copy of a clip made here, re-encoded at CRF 28, halved, cropped and
mirrored (mark and C2PA no help), is still named by the reverse search."""

from __future__ import annotations

import pytest
from app_server import served_app
from test_fingerprint import attack

from sora_lite.media import Clip, read_video, write_video

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402


@pytest.mark.slow
def test_verify_endpoint_names_the_clip_of_an_attacked_copy(tmp_path_factory) -> None:
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("work")
    with served_app(home) as (demo, _):
        client = Client(demo.local_url, verbose=False)
        args = {"prompt": "a green ball rolls down a ramp", "image": None, "engine": "world", "seconds": 2,
                "size": "256x256", "fps": 24, "seed": 4, "use_spec": False, "spec_json": ""}
        video, record, _ = client.predict(*args.values(), api_name="/generate")
        clip = read_video(video["video"] if isinstance(video, dict) else video)
        copy = write_video(Clip(attack(clip.frames), clip.fps, clip.audio, clip.sample_rate), work / "copy.mp4")
        summary, report = client.predict(handle_file(str(copy)), api_name="/verify")
    assert report["c2pa"]["state"] == "absent"
    assert report["fingerprint"]["made_here"] and report["fingerprint"]["clip_id"] == record["id"], report
    assert report["watermark"]["found"] and report["watermark"]["details"]["mirrored"]  # read flipped back
    assert record["id"].startswith(report["watermark"]["clip_id"])
    assert f"made here: clip {record['id']}" in summary.replace("\\", "")  # the app escapes Markdown

"""AV sync, session 7 (cost): renders vs camera footage (the events source only on renders), one flow per frame
pair with the incoming velocity warped, and landmarks on every k-th frame with the mouth interpolated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_metric_av_sync_real import clicks  # the same click track: one definition

from eval.metrics import av_face, av_sources, av_sync

FPS, SR = 25, 16000
REAL = Path(__file__).resolve().parents[2] / "shared" / "realfootage"
REAL = REAL if REAL.is_dir() else Path("/work/shared/realfootage")


def _flat_scene(n: int = 8, size: int = 96) -> np.ndarray:
    frames = np.full((n, size, size, 3), 90, np.uint8)
    frames[:, size // 2:] = 150  # a floor
    frames[:, 30:50, 30:50] = (200, 40, 40)  # a red cube
    return frames


def test_flat_render_looks_rendered_and_noisy_footage_does_not() -> None:
    flat = _flat_scene()
    assert av_sources.flat_share(flat) > 0.9 and av_sources.looks_rendered(flat)
    rng = np.random.default_rng(0)
    noisy = np.clip(flat + rng.normal(0, 4, flat.shape), 0, 255).astype(np.uint8)  # sensor noise
    assert av_sources.flat_share(noisy) < 0.3 and not av_sources.looks_rendered(noisy)


@pytest.mark.skipif(not (REAL / "av_drumming_kit.mp4").is_file(), reason="real footage not here")
def test_camera_clip_is_not_taken_for_a_render() -> None:
    from sora_lite.media import read_video

    clip = read_video(REAL / "av_drumming_kit.mp4")
    assert not av_sources.looks_rendered(clip.frames[:100])


def test_incoming_velocity_follows_the_object_not_the_place() -> None:
    """An object 3 px/frame to the right: at frame i its pixels arrived at 3 px/frame, and the background it
    uncovered (in place, where the object was at i − 1) did not move — read in place it would look like a stop."""
    h, w = 20, 80
    prev = np.zeros((h, w, 2), np.float32)
    prev[:, 20:40, 0] = 3.0  # forward flow of frame i − 1: the object at x 20–39 moves 3 px right
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    v_in = av_sources.incoming_velocity(prev, gx, gy)
    assert np.allclose(v_in[:, 23:40, 0], 3.0)  # the object (now at x 23–42; its first 3 px ahead read as before)
    assert np.allclose(v_in[:, 20:23, 0], 0.0)  # the background it uncovered: read in place, 3 px/frame
    assert np.allclose(v_in[:, 45:, 0], 0.0) and np.allclose(v_in[..., 1], 0.0)
    assert np.allclose(prev[:, 20:23, 0], 3.0)  # (the in-place reading this replaces)


def test_incoming_velocity_equals_the_backward_flow_on_a_translation() -> None:
    import cv2

    rng = np.random.default_rng(1)
    base = cv2.GaussianBlur(rng.uniform(0, 255, (120, 160)).astype(np.float32), (0, 0), 3)
    frames = [np.clip(np.roll(base, 2 * k, axis=1)[20:92, 20:116], 0, 255).astype(np.uint8) for k in range(3)]
    flow = lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 2, 9, 3, 5, 1.1, 0)  # noqa: E731
    gx, gy = np.meshgrid(np.arange(96, dtype=np.float32), np.arange(72, dtype=np.float32))
    v_in = av_sources.incoming_velocity(flow(frames[0], frames[1]), gx, gy)
    back = flow(frames[1], frames[0])
    inner = (slice(12, -12), slice(12, -12))
    assert float(-back[inner][..., 0].mean()) > 1.0  # it does move
    assert np.abs(v_in[inner] + back[inner]).mean() < 0.15


def test_median_vector_equals_numpy() -> None:
    rng = np.random.default_rng(2)
    for shape in ((36, 48, 2), (35, 47, 2), (1, 1, 2)):
        field = rng.normal(size=shape).astype(np.float32)
        assert np.array_equal(av_sources._median_vector(field), np.median(field.reshape(-1, 2), axis=0))


def test_landmark_step_keeps_at_least_12_samples_a_second() -> None:
    assert av_face.landmark_step(22.09) == 1 and av_face.landmark_step(25) == 2
    assert av_face.landmark_step(30) == 2 and av_face.landmark_step(59.94) == 4
    for fps in (10, 22.09, 24, 25, 29.97, 30, 50, 59.94, 120):
        assert fps / av_face.landmark_step(fps) >= min(fps, av_face.LANDMARK_MIN_HZ)


def test_landmark_frames_cover_every_run_and_fill_between_bridges_only_short_gaps() -> None:
    ok = np.zeros(20, bool)
    ok[2:9] = True  # a run of 7
    ok[12:14] = True  # a run of 2
    got = av_face.landmark_frames(ok, 2)
    assert got.tolist() == [2, 4, 6, 8, 12, 13]
    assert av_face.landmark_frames(ok, 1).tolist() == np.flatnonzero(ok).tolist()
    values = np.full(20, np.nan)
    values[got] = 0.5 * got  # a linear signal, measured on those frames
    filled = av_face.fill_between(values, 2)
    assert np.allclose(filled[2:9], 0.5 * np.arange(2, 9)) and np.allclose(filled[12:14], [6.0, 6.5])
    assert np.isnan(filled[9:12]).all() and np.isnan(filled[:2]).all()  # no face there: not invented


def _bouncing_block(n: int, contacts: list[int], rng: np.random.Generator) -> np.ndarray:
    """A textured, noisy (camera-like) backdrop and a bright block bouncing between walls: it reverses at `contacts`."""
    import cv2

    size = 96
    backdrop = cv2.GaussianBlur(rng.uniform(40, 200, (size, size)).astype(np.float32), (0, 0), 1.5)
    x, v, xs = 30.0, 3.0, []
    for i in range(n):
        xs.append(x)
        if i in contacts:  # it leaves frame i the other way: the velocity changes at frame i
            v = -v
        x += v
    frames = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        img = backdrop + rng.normal(0, 3, backdrop.shape)
        c = int(round(xs[i]))
        img[40:56, max(0, c): c + 16] = 250
        frames[i] = np.clip(img, 0, 255).astype(np.uint8)[..., None]
    return frames



@pytest.mark.slow
def test_motion_source_answers_a_known_offset_on_camera_like_footage(monkeypatch) -> None:
    """Irregular contacts, sound 3 frames late: answered by the motion source within ±1 frame, and the colour
    tracking of the events source is never run on camera-like footage."""
    rng = np.random.default_rng(5)
    n = 150
    contacts = [9, 17, 30, 36, 51, 60, 74, 79, 95, 103, 118, 126, 140]
    frames = _bouncing_block(n, contacts, rng)
    assert not av_sources.looks_rendered(frames)

    def no_tracking(*a, **k):
        raise AssertionError("the events source ran on camera-like footage")

    monkeypatch.setattr(av_sync, "visual_event_envelope", no_tracking)
    got = av_sync.score_sample(frames, FPS, clicks([c + 3 for c in contacts], n, rng, FPS), SR)
    assert got.source == "motion" and got.status == "ok", got.reason
    assert abs(got.offset_frames - 3) <= 1


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "av_speech_grid_bbaf2n.mp4").is_file(), reason="real footage not here")
def test_mouth_on_every_second_frame_matches_the_full_measure(monkeypatch) -> None:
    """The mouth signal as compared (smoothed, band-passed) from every 2nd frame's landmarks, the rest
    interpolated, stays close to the one from every frame's."""
    from sora_lite.media import read_video

    clip = read_video(REAL / "av_speech_grid_bbaf2n.mp4")
    fps = float(clip.fps)

    def compared(opening: np.ndarray) -> np.ndarray:
        valid = np.isfinite(opening)
        filled = np.interp(np.arange(len(opening)), np.flatnonzero(valid), opening[valid])
        return av_sources.syllable_band(av_sources.smooth(filled, 0.7), fps)

    half, _ = av_sources.mouth_opening(clip.frames, fps)
    monkeypatch.setattr(av_face, "LANDMARK_MIN_HZ", 1000.0)  # step 1: every frame
    full, _ = av_sources.mouth_opening(clip.frames, fps)
    assert np.isfinite(full).mean() > 0.9 and np.isfinite(half).mean() > 0.9
    a, b = compared(half), compared(full)
    assert np.corrcoef(a, b)[0, 1] > 0.95
    assert np.abs(a - b).max() < 0.4 * np.abs(b).max()


def test_null_stops_early_only_when_p_is_already_above_the_level() -> None:
    """With the level given, a hopeless lag is known after the first copies (p stays above the level, the
    jackknife is skipped); a significant one gets the whole null, exactly as without the level."""
    rng = np.random.default_rng(7)
    n = 200
    visual = av_sources.smooth(rng.exponential(1.0, n) ** 2)
    related = np.roll(visual, 4) + 0.3 * rng.normal(size=n)
    unrelated = av_sources.smooth(rng.exponential(1.0, n) ** 2)
    valid = np.ones(n, bool)
    full = av_sync.lag_against_null(related, visual, valid, 25.0, jackknife=True)
    fast = av_sync.lag_against_null(related, visual, valid, 25.0, jackknife=True, alpha=0.005)
    assert full.p_value <= 0.005 and abs(full.lag_frames - 4) < 0.5
    assert (fast.p_value, fast.z_score, fast.lag_frames, fast.jackknife) == (full.p_value, full.z_score,
                                                                             full.lag_frames, full.jackknife)
    slow = av_sync.lag_against_null(unrelated, visual, valid, 25.0, jackknife=True)
    quick = av_sync.lag_against_null(unrelated, visual, valid, 25.0, jackknife=True, alpha=0.005)
    assert slow.p_value > 0.005 and quick.p_value > 0.005 and quick.jackknife == 0.0
    assert quick.lag_frames == slow.lag_frames


def test_motion_onsets_from_the_shared_flux_equal_their_own() -> None:
    """The motion source reuses the events source's spectral flux (same STFT): the same numbers, bit for bit."""
    rng = np.random.default_rng(9)
    for sr, fps, n in ((16000, 25.0, 100), (44100, 29.97, 90), (48000, 24.0, 73)):
        audio = (rng.normal(0, 0.01, (1, int(n / fps * sr))) * (1 + (rng.uniform(size=int(n / fps * sr)) > 0.999) * 50))
        own = av_sources.onset_envelope(audio.astype(np.float32), sr, fps, n)
        shared = av_sources.compress_flux(av_sync.audio_onset_envelope(audio.astype(np.float32), sr, fps, n))
        assert np.array_equal(own, shared)

"""Check a video file: is its C2PA manifest intact, and does it carry a sora-lite watermark?

The two answers are independent on purpose: re-encoding or screen-recording strips C2PA but keeps the
watermark; a file from elsewhere may carry a valid manifest and no watermark.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import c2pa
import numpy as np

from sora_lite.media import MediaError, iter_frames, probe
from sora_lite.provenance import fingerprint as fingerprints
from sora_lite.provenance import invisible
from sora_lite.provenance.c2pa_sign import CLAIM_LABEL
from sora_lite.provenance.keys import instance_tag

C2paState = Literal["valid", "tampered", "absent"]
READ_FRAMES = 96  # frames sampled evenly from the file for the watermark


@dataclass
class C2paReport:
    state: C2paState
    claims: dict[str, Any] = field(default_factory=dict)  # our generation assertion, if present
    actions: list[str] = field(default_factory=list)
    digital_source_type: str | None = None
    ingredients: list[str] = field(default_factory=list)
    signer: str | None = None
    trusted: bool = False  # a self-made instance root is valid but not on any trust list
    messages: list[str] = field(default_factory=list)  # validation codes and explanations


@dataclass
class WatermarkReport:
    found: bool
    clip_id: str | None = None  # the 12-hex clip field (a clip id prefix)
    instance_tag: str | None = None
    payload: str | None = None
    confidence: float = 0.0
    bit_agreement: float = 0.0
    from_this_instance: bool | None = None  # the instance tag matches this instance's
    matches_clip: bool | None = None  # store_lookup found the clip in this instance's DB (None: not asked)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class FingerprintReport:
    """Reverse search in this instance's fingerprints: works when the mark and the manifest are gone."""

    checked: bool
    made_here: bool = False
    clip_id: str | None = None  # the best match
    matches: list[dict[str, Any]] = field(default_factory=list)  # every match, best first
    reason: str = ""  # why it was not checked


@dataclass
class VerifyReport:
    file: str  # not "path": HTTP clients (gradio_client) take any {"path": ...} object for a file to download
    c2pa: C2paReport
    watermark: WatermarkReport
    fingerprint: FingerprintReport = field(
        default_factory=lambda: FingerprintReport(checked=False, reason="no clip store to search"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def summary(self) -> str:
        """Two human lines, one per check."""
        c = self.c2pa
        if c.state == "valid":
            who = f" by {c.signer}" if c.signer else ""
            line1 = f"C2PA: valid{who}{'' if c.trusted else ' (signer not on a trust list)'}"
            if c.claims:
                line1 += f"; clip {c.claims.get('clip_id')}, engine {c.claims.get('engine')}"
        elif c.state == "tampered":
            line1 = "C2PA: TAMPERED — the file changed after signing (" + ", ".join(c.messages[:3]) + ")"
        else:
            line1 = "C2PA: absent (no manifest; re-encoded or never signed)"
        w = self.watermark
        if w.found:
            line2 = f"Watermark: found, clip {w.clip_id}, confidence {w.confidence:.3f}"
            if w.details.get("mirrored"):
                line2 += " (in a mirrored copy)"
            if w.from_this_instance is not None:
                line2 += ", from this instance" if w.from_this_instance else ", from another instance"
            if w.matches_clip is not None:
                line2 += ", matches a clip here" if w.matches_clip else ", no such clip here"
        else:
            line2 = "Watermark: not found"
        f = self.fingerprint
        if not f.checked:
            line3 = f"Reverse search: not run ({f.reason})"
        elif f.made_here:
            best = f.matches[0]
            how = []
            if best.get("video_matched"):
                how.append(f"picture distance {best['video_distance']:.2f}"
                           + (", mirrored" if best.get("mirrored") else "")
                           + (f", from {best['offset_s']:.1f} s" if best.get("offset_s") else ""))
            if best.get("audio_matched"):
                how.append(f"sound bit errors {best['audio_ber']:.0%}")
            line3 = f"Reverse search: made here: clip {f.clip_id} ({'; '.join(how)})"
            if len(f.matches) > 1:
                line3 += "; also close: " + ", ".join(m["clip_id"] for m in f.matches[1:])
        else:
            line3 = "Reverse search: no clip of this instance looks or sounds like this"
        return line1 + "\n" + line2 + "\n" + line3


FingerprintLookup = Callable[["fingerprints.Fingerprint"], "list[fingerprints.FingerprintMatch]"]


def verify_file(path: str | Path, *, store_lookup: Callable[[str], bool] | None = None,
                fingerprint_lookup: FingerprintLookup | None = None) -> VerifyReport:
    """Check C2PA and the invisible watermark of a video file, and (given `fingerprint_lookup`) search this
    instance's clip fingerprints for it.

    `store_lookup(clip_field)` answers whether this instance made a clip whose id starts with the
    decoded 12-hex clip field; `fingerprint_lookup(query)` returns the stored clips a query fingerprint
    matches, best first (fingerprint.search_store). Raises MediaError if the file is not a readable video.
    """
    p = Path(path)
    frames = _sample_frames(p)  # first: a file that is not a video gets one clear MediaError
    report = VerifyReport(file=str(p), c2pa=read_c2pa(p), watermark=WatermarkReport(found=False))
    reading = invisible.read(frames)
    mirrored = False
    if not reading.found:  # a mirrored copy: the mark's patterns are not mirror-symmetric, so read it flipped back
        flipped = invisible.read(np.ascontiguousarray(frames[:, :, ::-1]))
        if flipped.found:
            reading, mirrored = flipped, True
    wm = WatermarkReport(
        found=reading.found,
        clip_id=reading.clip_field if reading.found else None,
        instance_tag=reading.instance_tag if reading.found else None,
        payload=reading.payload_hex if reading.found else None,
        confidence=reading.confidence,
        bit_agreement=reading.bit_agreement,
        details={**{k: reading.to_dict()[k] for k in ("symbol_z", "sync_z", "cell_px", "corrected_symbols",
                                                       "frames_read")}, "mirrored": mirrored},
    )
    if reading.found:
        wm.from_this_instance = reading.instance_tag == instance_tag().hex()
        if store_lookup is not None and reading.clip_field:
            wm.matches_clip = bool(store_lookup(reading.clip_field))
    report.watermark = wm
    if fingerprint_lookup is not None:
        report.fingerprint = reverse_search(p, fingerprint_lookup)
    return report


def reverse_search(path: Path, lookup: FingerprintLookup) -> FingerprintReport:
    """Fingerprint the file as a query (as seen and mirrored) and look it up."""
    try:
        query = fingerprints.fingerprint_file(path, stored=False)
    except fingerprints.FingerprintError as exc:
        return FingerprintReport(checked=False, reason=str(exc))
    matches = lookup(query)
    return FingerprintReport(checked=True, made_here=bool(matches), clip_id=matches[0].clip_id if matches else None,
                             matches=[m.to_dict() for m in matches])


def _sample_frames(p: Path) -> np.ndarray:
    info = probe(p)
    stride = max(1, math.ceil(info.num_frames / READ_FRAMES))
    frames = [frame for i, (_, frame) in enumerate(iter_frames(p)) if i % stride == 0]
    if not frames:
        raise MediaError(f"{p.name} has no video frames to check")
    if min(frames[0].shape[:2]) < invisible.READ_MIN_SIDE:
        raise MediaError(f"{p.name} is {frames[0].shape[1]}×{frames[0].shape[0]}: too small to carry a watermark")
    return np.stack(frames[: READ_FRAMES + 1])


def read_c2pa(path: Path) -> C2paReport:
    try:
        reader = c2pa.Reader(str(path))
    except c2pa.C2paError as exc:
        if any(k in type(exc).__name__ or k in str(exc) for k in ("ManifestNotFound", "no JUMBF", "NotSupported")):  # a format C2PA cannot carry (.mkv ...) has no manifest: absent
            return C2paReport(state="absent")
        return C2paReport(state="tampered", messages=[f"manifest unreadable: {exc}"])
    with reader:
        store = json.loads(reader.json())
        state = (reader.get_validation_state() or "").lower()
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    statuses = store.get("validation_status") or []
    codes = [s.get("code", "") for s in statuses]
    report = C2paReport(
        state="valid" if state in ("valid", "trusted") else "tampered",
        trusted=state == "trusted",
        messages=[f"{s.get('code')}: {s.get('explanation', '')}".strip() for s in statuses],
        signer=(manifest.get("signature_info") or {}).get("common_name"),
        ingredients=[i.get("title", "") for i in manifest.get("ingredients", [])],
    )
    if report.state == "tampered" and not codes:
        report.messages.append(f"validation state {state or 'unknown'}")
    for assertion in manifest.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label == CLAIM_LABEL:
            report.claims = dict(data)
        elif label.startswith("c2pa.actions"):
            for action in data.get("actions", []):
                report.actions.append(action.get("action", ""))
                report.digital_source_type = action.get("digitalSourceType", report.digital_source_type)
    return report

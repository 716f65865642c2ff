"""Sign a finished MP4 with a C2PA manifest that says: made by sora-lite, by this model, from this prompt.

The prompt itself never goes in — only its SHA-256 — so a manifest can be shared without the prompt,
and whoever has the prompt can still check it matches. A remix names its parent as an ingredient.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import c2pa

import sora_lite
from sora_lite.provenance.keys import signing_material

GENERATOR = "sora-lite"
CLAIM_LABEL = "org.sora-lite.generation"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}


class SigningError(Exception):
    """The file could not be signed; the message names the file and the reason."""


@dataclass
class ProvenanceClaims:
    """What sora-lite asserts about a clip. `prompt_sha256` is a hash; the prompt is never stored here."""

    clip_id: str
    engine: str  # engine or model id, e.g. "world" or a Hub repo id
    prompt_sha256: str
    parent_clip_id: str | None = None
    parent_path: str | None = None  # the parent's file, added as ingredient when present
    instance_tag: str | None = None  # hex tag the invisible watermark carries
    contributors: list[str] | None = None  # a shared project's people (owner first), named in the manifest

    @classmethod
    def for_prompt(cls, prompt: str, *, clip_id: str, engine: str, **kwargs: Any) -> "ProvenanceClaims":
        return cls(clip_id=clip_id, engine=engine, prompt_sha256=prompt_sha256(prompt), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prompt_sha256(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def manifest_for(claims: ProvenanceClaims, *, title: str, parent_label: str | None = None) -> dict[str, Any]:
    """The manifest definition; `parent_label` names the parent ingredient when its file is attached."""
    is_remix = claims.parent_clip_id is not None
    action: dict[str, Any] = {
        "action": "c2pa.edited" if is_remix else "c2pa.created",
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": {"name": GENERATOR, "version": sora_lite.__version__},
        "parameters": {"model": claims.engine},
    }
    if is_remix:
        action["parameters"]["parentClipId"] = claims.parent_clip_id
    actions = [action]
    if is_remix and parent_label:
        actions.insert(0, {"action": "c2pa.opened", "parameters": {"ingredientIds": [parent_label]}})
    generation = {
        "clip_id": claims.clip_id,
        "engine": claims.engine,
        "prompt_sha256": claims.prompt_sha256,
        "generator": GENERATOR,
        "generator_version": sora_lite.__version__,
    }
    if claims.parent_clip_id:
        generation["parent_clip_id"] = claims.parent_clip_id
    if claims.instance_tag:
        generation["watermark_instance_tag"] = claims.instance_tag
    if claims.contributors:
        generation["contributors"] = [str(name) for name in claims.contributors]
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": sora_lite.__version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": CLAIM_LABEL, "data": generation},
        ],
    }


def sign_video(src: str | Path, dst: str | Path, *, claims: ProvenanceClaims) -> None:
    """Write `dst`: `src` with a signed C2PA manifest embedded. `src` is left as it was.

    `dst` appears only once signing succeeded (written to a temporary file, then renamed).
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise SigningError(f"cannot sign {src}: no such file")
    mime = MIME_TYPES.get(src.suffix.lower())
    if mime is None:
        raise SigningError(f"cannot sign {src.name}: C2PA signing here supports {', '.join(MIME_TYPES)} files")
    material = signing_material()
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=material.cert_chain_pem,
                               private_key=material.private_key_pem, ta_url=None)
    parent = Path(claims.parent_path) if claims.parent_path else None
    if parent is not None and not parent.is_file():
        parent = None  # the parent's file is gone: the remix still names its parent clip id
    parent_label = f"parent-{claims.parent_clip_id or 'clip'}" if parent is not None else None
    manifest = manifest_for(claims, title=dst.name, parent_label=parent_label)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".signing-", suffix=src.suffix, dir=dst.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(json.dumps(manifest)) as builder:
            if parent is not None:
                ingredient = {"title": parent.name, "relationship": "parentOf", "label": parent_label}
                with parent.open("rb") as parent_stream:
                    builder.add_ingredient(json.dumps(ingredient), MIME_TYPES.get(parent.suffix.lower(), mime),
                                           parent_stream)
            with src.open("rb") as source, tmp.open("w+b") as dest:
                builder.sign(signer, mime, source, dest)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a published clip is an ordinary file
        tmp.replace(dst)
    except c2pa.C2paError as exc:
        raise SigningError(f"C2PA signing of {src.name} failed: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)

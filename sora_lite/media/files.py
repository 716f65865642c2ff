"""File checks and atomic writes shared by the readers and writers: one MediaError wording for every file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av

from sora_lite.media import limits
from sora_lite.media.clip import MediaError


def _name(path: str | os.PathLike[str]) -> str:
    return Path(path).name or str(path)


@contextlib.contextmanager
def _user_errors(path: str | os.PathLike[str], doing: str) -> Iterator[None]:
    """Turn whatever PyAV / the OS raises into one MediaError about the user's file."""
    try:
        yield
    except MediaError:
        raise
    except MemoryError as e:
        raise MediaError(f"{_name(path)}: ran out of memory while {doing}") from e
    except av.error.FFmpegError as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise MediaError(f"{_name(path)}: {doing} failed: the file is damaged or not supported ({reason})") from e
    except (OSError, ValueError, TypeError, RuntimeError, EOFError, IndexError, ZeroDivisionError) as e:
        raise MediaError(f"{_name(path)}: {doing} failed ({type(e).__name__}: {e})") from e



def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p} does not exist")
    if p.is_dir():
        raise MediaError(f"{p} is a folder, not a video file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise MediaError(f"{p} cannot be read ({e.strerror})") from e
    if size == 0:
        raise MediaError(f"{p.name} is empty (0 bytes)")
    if size > limits.MAX_FILE_BYTES:
        raise MediaError(f"{p.name} is {size / 1024**3:.1f} GiB; the limit is {limits.MAX_FILE_BYTES / 1024**3:.0f} GiB")
    return p



def _reason(e: BaseException) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__



def _publish(tmp: Path, out: Path) -> None:
    """Move a finished temp file into place with ordinary file permissions (mkstemp makes it owner-only)."""
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)


def _save_atomically(out: Path, save: Any) -> Path:
    if not out.parent.is_dir():
        raise MediaError(f"cannot write {out}: the folder {out.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=f".part{out.suffix}")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f, _user_errors(out, "writing the image"):
            save(f)
        _publish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out

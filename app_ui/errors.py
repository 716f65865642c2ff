"""How the app shows a failure: library errors become one visible `gr.Error`, and the app keeps serving."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from sora_lite.engines import Cancelled, EngineUnavailable, RequestError
from sora_lite.markup import html_text
from sora_lite.media import MediaError

log = logging.getLogger("sora_lite.app")


def shown_errors(fn: Callable) -> Callable:
    """Turn library errors into visible gr.Error messages; the app keeps serving after any of them."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (RequestError, MediaError, EngineUnavailable, PermissionError, LookupError, ValueError) as e:
            # Gradio renders toasts as (sanitised) HTML: a message quoting user input is escaped text
            raise gr.Error(html_text(e), print_exception=False) from None
        except Cancelled:
            raise gr.Error("cancelled", print_exception=False) from None
        except RecursionError:
            raise gr.Error("the request nests too deeply to read", print_exception=False) from None
        except Exception as e:  # a bug: log it, tell the user something happened, keep serving
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"internal error ({type(e).__name__}): {html_text(e)}") from None

    return wrapper


def whole_number(value: Any, name: str, error: type[Exception] = RequestError) -> int:
    """A form field that must hold a whole number (Gradio hands numbers over as floats or text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise error(f"{name} must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise error(f"{name} must be a whole number, got {value!r}")
    return int(number)


def progress_reporter(progress: gr.Progress) -> Callable[[str, float], None]:
    """The library's `progress(stage, fraction)` shown on Gradio's progress bar."""

    def report(stage: str, fraction: float) -> None:
        progress(max(0.0, min(1.0, float(fraction))), desc=stage)

    return report

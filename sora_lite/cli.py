"""The command line: `python -m sora_lite generate|models|moderate|verify|parse ...`.

A door like the app: it turns arguments into a `GenerationRequest`, calls the studio flow and prints the record.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from sora_lite.common.request import parse_size
from sora_lite.engines import Cancelled, EngineUnavailable, GenerationRequest, RequestError


class _Progress:
    """One tqdm bar per stage (simulate / render / audio / encode ...), each 0..100 %."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.stage: str | None = None
        self.lock = threading.Lock()

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        with self.lock:
            if stage != self.stage:
                self.close()
                self.stage = stage
                self.bar = tqdm(total=100, desc=f"{stage:>9}", unit="%", leave=True, file=sys.stderr,
                                bar_format="{desc} {bar} {percentage:3.0f}% [{elapsed}]")
            self.bar.n = int(round(100 * min(max(fraction, 0.0), 1.0)))
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _parse_size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except RequestError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _read_json_file(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RequestError(f"{what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RequestError(f"cannot read {what} file {path}: {e}") from None
    except json.JSONDecodeError as e:
        raise RequestError(f"{what} file {path} is not valid JSON: {e}") from None
    except RecursionError:
        raise RequestError(f"{what} file {path} nests too deeply to be a {what}") from None


def _add_generate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="make a clip with sound from a prompt (and optionally a still or a storyboard)")
    p.add_argument("prompt", nargs="?", default="", help="what to show, e.g. 'a red rubber ball bouncing on a wooden floor'")
    p.add_argument("--out", default="clip.mp4", help="output file (.mp4); the clip is also kept in the feed under SORA_LITE_HOME")
    p.add_argument("--image", help="a still image to animate (image-to-video)")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--size", type=_parse_size, default=(256, 256), help="N or WxH pixels, 128..1024")
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--spec", help="scene spec JSON file (replaces the prompt's parse)")
    p.add_argument("--shots", help="storyboard JSON file: a list of {prompt, camera, seconds}")
    p.add_argument("--engine", default="world", help="engine name (default: the embedded world engine)")
    p.add_argument("--model", help="a Hub model id (e.g. Lightricks/LTX-2); same as --engine ID")
    p.add_argument("--truth", action="store_true", help="also write the ground-truth sidecar JSON (world engine)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _work_while_the_helper_reads(request: GenerationRequest) -> None:
    """While the language helper loads lingua on the other core, do start-up work the flow would otherwise do
    after moderation has waited for it: import a built-in engine's module and, for a plain-ASCII prompt (most
    likely English, which the classifier reads), load the classifier. Loading only: nothing is generated or
    written before the checks pass, and a failure here is left to the flow, which reports it as always."""
    from sora_lite.engines.base import BUILTIN_ENGINES
    from sora_lite.safety import language

    if not language.helper_running():
        return
    path = BUILTIN_ENGINES.get(request.engine)
    try:
        if path is not None:
            importlib.import_module(path.partition(":")[0])
        if request.prompt.isascii():
            from sora_lite.safety.moderation import default_moderator

            moderator = default_moderator()
            if moderator.use_classifier:
                moderator.classifier.load()
    except Exception:  # noqa: BLE001, S110 - the flow does it again and reports the error as it always has
        pass


def run_generate(args: argparse.Namespace) -> int:
    from sora_lite.studio import Studio

    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise RequestError(f"--out must end in .mp4 (the signed, watermarked master), got {args.out!r}")
    if args.image and not Path(args.image).is_file():
        raise RequestError(f"--image {args.image} does not exist")
    width, height = args.size
    request = GenerationRequest(
        prompt=args.prompt,
        image=args.image,
        seconds=args.seconds,
        width=width,
        height=height,
        fps=args.fps,
        seed=args.seed,
        spec=_read_json_file(args.spec, "spec") if args.spec else None,
        shots=_read_json_file(args.shots, "storyboard") if args.shots else None,
        engine=args.model or args.engine,
    )
    _work_while_the_helper_reads(request)
    progress = _Progress(enabled=not args.quiet)
    studio = Studio()
    try:
        record = studio.generate(request, progress=progress)
    finally:
        progress.close()
        studio.store.dispose()  # close the database now (SQLite folds its write-ahead log back in), not at exit
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(record.video_path, out)
    if args.truth and record.ground_truth_path:
        shutil.copyfile(record.ground_truth_path, out.with_suffix(".truth.json"))
    audio = record.info.get("audio_source", "none")
    total = sum(v for k, v in record.timings.items() if k in ("generate", "encode"))
    print(
        f"wrote {out}: {request.seconds:g}s {width}x{height}@{request.fps}fps, "
        f"engine={record.engine}, seed={record.seed}, audio={audio}, id={record.id}, {total:.1f}s"
    )
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from sora_lite.provenance.cli import run_verify as report
    from sora_lite.studio import Studio

    studio = Studio()
    try:
        return report(args, verify=studio.verify)  # watermark lookup + reverse search in this instance
    finally:
        studio.store.dispose()


def build_parser() -> argparse.ArgumentParser:
    from sora_lite.engines.hub.cli import add_models_parser
    from sora_lite.provenance.cli import add_verify_parser
    from sora_lite.safety.cli import add_moderate_parser

    parser = argparse.ArgumentParser(prog="python -m sora_lite", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate_parser(sub)
    add_verify_parser(sub)
    add_models_parser(sub)
    add_moderate_parser(sub)
    from sora_lite.engines.world.cli import add_parse_parser

    add_parse_parser(sub)
    sub.add_parser("prepare", help="fill this machine's caches (compiled rules and word lists, the classifiers' "
                   "example embeddings, the voice) so the first command is as quick as the next; install.sh runs it")
    return parser


def run_prepare(args: argparse.Namespace) -> int:  # noqa: ARG001 - no options
    """Fill this machine's caches now (install.sh runs it), so that the first command is as quick as the next."""
    import time

    from sora_lite.common.disk_cache import cache_root
    from sora_lite.safety.moderation import warm_up
    from sora_lite.sound.speech import prepare_voice

    t0 = time.perf_counter()
    warm_up(every_language=True)
    done = "the rule book, every language's word lists and concept words, the classifiers' example embeddings"
    if prepare_voice():
        done += ", the voice's phoneme timings"
    print(f"prepared in {time.perf_counter() - t0:.1f} s under {cache_root()}: {done}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from sora_lite.engines.hub.cli import run_models as list_models

    return list_models(args)


def run_moderate(args: argparse.Namespace) -> int:
    from sora_lite.safety.cli import run_moderate as judge

    return judge(args)


def run_parse(args: argparse.Namespace) -> int:
    from sora_lite.engines.world.cli import run_parse as show

    return show(args)


_COMMANDS = {"generate": run_generate, "verify": run_verify, "models": run_models, "moderate": run_moderate,
             "parse": run_parse, "prepare": run_prepare}


class _QuietParser(argparse.ArgumentParser):
    """The generate options, for a first look at the arguments: no help, no messages, no exit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "add_help": False})

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise ValueError(message)


def _start_language_helper(argv: Sequence[str]) -> None:
    """For `generate`, start reading the prompts' languages in a helper process before the imports.

    Why: lingua's first Latin-script detection loads ~20 languages' models (~3.6 s CPU, holding the GIL);
    a second interpreter does it on the other core while this one imports the engine and loads the rules.
    The verdicts are the same (the same code reads the same text); anything unusual here is ignored and the
    normal parser below reports it."""
    if not argv or argv[0] != "generate":
        return
    try:
        parser = _QuietParser()
        _add_generate_parser(parser.add_subparsers(dest="command", parser_class=_QuietParser))
        args, _ = parser.parse_known_args(list(argv))
        texts = [args.prompt]
        if args.shots:
            shots = json.loads(Path(args.shots).read_text())
            texts += [str(s.get("prompt") or "") for s in shots if isinstance(s, dict)]
    except (ValueError, TypeError, AttributeError, OSError, RecursionError, SystemExit):
        return
    from sora_lite.safety.language import prefetch

    prefetch(texts)


def exit_now(code: int) -> int:
    """End the `python -m sora_lite` process at once with `code`, skipping the interpreter's teardown.

    Why: tearing down what a clip loaded (NumPy, SciPy, MuJoCo, PyAV, the rule book's regexes, ...) takes
    ~0.4 s of the CLI's ~3 s. What a normal exit does that matters still happens first: the atexit
    handlers (the language helper is stopped, temporary folders removed, logging flushed) and a flush of
    stdout and stderr; every file the command writes is closed before `main` returns. When a non-daemon
    thread is still running, the normal exit (which waits for it) is left to run: `code` is returned."""
    import atexit

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return code
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(int(code or 0))


def quiet_blas() -> None:
    """Ask OpenBLAS (NumPy's and SciPy's own copies) for one thread, unless the user set OPENBLAS_NUM_THREADS.

    Why: each copy starts a pool of threads as it loads, and they spin on the other core after every call; a
    command's NumPy work is small (the prompt classifier already runs on one thread, `safety/minilm.py`), while
    that core is what draws the frames, encodes the sound and, for other languages, reads the prompt's language.
    Measured on a 4 s clip: 0.2–0.8 s less CPU per run, 2.36 s vs 2.81 s median wall on a slow hour. Must run
    before NumPy loads (the pool is sized then); torch (Hub models) has its own threads and is not affected."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run() -> None:
    """Entry point for a console script (`sora-lite`): `main`, then `exit_now`, as `python -m sora_lite` does."""
    quiet_blas()
    sys.exit(exit_now(main()))


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _start_language_helper(argv)  # first: before NumPy and the rest load (~0.15 s sooner on the other core)
    from sora_lite.media import MediaError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (RequestError, MediaError, EngineUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

"""The read-only tabs: Leaderboard (the eval's scores), Verify (C2PA manifest and watermark of any video) and
About (what the engine can and cannot do, the feed's ranking, the content policy). Named endpoint: verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from app_ui.context import LIGHT_SLOTS
from app_ui.errors import shown_errors
from sora_lite import __version__
from sora_lite.engines import RequestError
from sora_lite.leaderboard import LEADERBOARD_COMMAND, load_leaderboard
from sora_lite.markup import markdown_text
from sora_lite.social.ranking import RANKING_ABOUT
from sora_lite.studio import Studio

POLICY_FILE = Path(__file__).resolve().parent.parent / "sora_lite" / "safety" / "policy.md"

ABOUT = f"""
## sora-lite {__version__}

**What the embedded world engine can do:** turn a prompt into a small physical scene (balls, cubes, dominoes,
pendulums, ramps, tables; colours and materials; floors; time of day and mood; camera moves: static, pan,
tilt, orbit, dolly, zoom, follow), simulate it with MuJoCo (gravity, bounces, friction, collisions), render it
headless and synthesize the sound of every contact, in sync. Storyboards keep one continuing world across
cuts; remixes start from a clip's world. Parse a prompt under *Advanced* to see which words it used and which
it ignored, and edit the scene spec directly.

**What it cannot do:** photoreal people, animals, faces, text, fluids, cloth, or anything outside its
vocabulary: unknown words are ignored (and listed), not imagined. Hub video models (when installed and their
weights downloaded) appear in the engine picker.

Every clip carries its record (seed, engine, prompt, timings); the same seed and settings give the same clip.
"""


def policy_text() -> str:
    if POLICY_FILE.is_file():
        return POLICY_FILE.read_text(encoding="utf-8")
    return "_The content policy has not been written yet (`sora_lite/safety/policy.md`)._"


def show_leaderboard() -> tuple[Any, Any, str]:
    board = load_leaderboard()
    return (gr.Dataframe(board.table, visible=not board.empty), gr.BarPlot(board.plot_frame(), visible=not board.empty),
            board.message + (f"\n\n{board.notes}" if board.notes else ""))


def build_leaderboard_tab() -> None:
    with gr.Tab("Leaderboard") as board_tab:
        board_message = gr.Markdown(f"Loading… (make one with `{LEADERBOARD_COMMAND}`)")
        board = gr.Dataframe(label="Leaderboard (click a column to sort)", interactive=False, visible=False)
        board_plot = gr.BarPlot(x="bar", y="value", color="generator", label="Scores by metric",
                                x_title="metric | generator", sort=None, visible=False)
        board_btn = gr.Button("Reload")
        board_btn.click(show_leaderboard, None, [board, board_plot, board_message], api_visibility="private")
        board_tab.select(show_leaderboard, None, [board, board_plot, board_message], api_visibility="private")


def build_verify_tab(studio: Studio) -> None:
    @shown_errors
    def verify(path: str | None) -> tuple[str, dict[str, Any]]:
        if not path:
            raise RequestError("upload a video to verify")
        report = studio.verify(path)
        # the summary quotes the file's own manifest (signer, claims): text, not Markdown
        return "  \n".join(markdown_text(line) for line in report.summary().splitlines()), report.to_dict()

    with gr.Tab("Verify"):
        gr.Markdown("Check any video: its C2PA manifest (valid / tampered / absent) and the sora-lite "
                    "invisible watermark (the clip id it carries, and whether this instance made it).")
        verify_file_in = gr.File(label="Video to check", file_types=["video"], type="filepath")
        verify_btn = gr.Button("Verify", variant="primary")
        verify_summary = gr.Markdown()
        verify_report = gr.JSON(label="Full report")
        verify_btn.click(verify, [verify_file_in], [verify_summary, verify_report], api_name="verify",
                         concurrency_limit=LIGHT_SLOTS)


def build_about_tab() -> None:
    with gr.Tab("About"):
        gr.Markdown(ABOUT)
        gr.Markdown(RANKING_ABOUT, elem_id="about-ranking")
        with gr.Accordion("Content policy", open=False):
            gr.Markdown(policy_text())

"""The web app's Gradio side: tabs and per-session helpers that `app.py` wires to the library.

Gradio is imported here and in `app.py` only; `sora_lite` never imports it (tests/test_layers.py checks).
"""

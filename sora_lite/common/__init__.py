"""The lowest layer: words every other part of sora-lite shares, and nothing else.

errors (RequestError and the engine errors), records (ClipRecord), handles (`@alice` in prompts), sound
(the synthesis both engines use for contact sounds). Modules here import only the standard library, numpy
and scipy: never another `sora_lite` package, so anything may import them without a loop
(tests/test_layers.py checks this).
"""

"""Cameo: consented likeness (and voice) — registration, verification, grants, revocation, output matching.

Modules: faces (detection, sharpness, landmarks, likeness vectors), handles (`@alice` in prompts), registry
(register / list / delete), verification (challenge + recording → honest status), grants (only me /
approved / everyone, requests with single-use approval tokens, revoke, `check_use`), matching (faces in
generated frames vs registered cameos), usage (the studio hooks and the owner's clip list). The Gradio tab
is `app_ui/cameo_tab.py`; `@handle` parsing is `sora_lite.common.handles` (re-exported as `handles`).
"""

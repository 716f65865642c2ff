"""Policy (policy.md), prompt moderation and output moderation: the checks every clip passes once, in the studio flow."""

from sora_lite.safety.moderation import (
           PromptModerator,
           Verdict,
           moderate_prompt,
           moderate_prompts,
           warm_up,
)
from sora_lite.safety.output import OutputVerdict, moderate_output

__all__ = [
           "OutputVerdict",
           "PromptModerator",
           "Verdict",
           "moderate_output",
           "moderate_prompt",
           "moderate_prompts",
           "warm_up",
]

"""Actions: one function per thing a producer can start, and the rules every door gets.

Web routes, API views, CLI commands and bulk pumps are *doors*: they translate their input
(form fields, JSON, arguments) into one call here and the result (a Job, or an `ActionError`)
into their response. The action is where the rules live, in one order, for every door:

1. **feature** — the producer's media assistant is switched on;
2. **ownership** — every referenced record (asset, show, job) is the caller's;
3. **validation** — typed input (`AutoformatSettings`, `GenerationRequest`) is checked;
4. **allowance** — the hourly allowance is *reserved* atomically with the job row
   (`services.limits.reserve`, settled when the job ends);
5. **budget** — a platform-paid request the provider's monthly budget cannot cover is refused
   up front (the exact amount is reserved per call inside the job, see `services.budget`).

`ACTIONS` registers each action with its rules and its doors; `tests/integration/
test_action_conformance.py` is generated from it, so a door or action added without its rules
fails a test, and a static test checks that nothing outside this package starts work.

The package is split by idea — `core` (registry, `ActionError`, the shared rules), `autoformat`,
`palettes`, `generation` (artwork, video, voice), `describe`, `control` (job control, favourites) —
and re-exports every action here: callers write `actions.generate(...)`, `actions.ActionError`,
`actions.ACTIONS`. Submodules import from `.core`, never from this package.
"""

from __future__ import annotations

# Imported in the order the single module registered its actions (ACTIONS keeps that order).
# isort: off
from webapp.services.actions.core import (
    ACTION_STATUS,
    ACTIONS,
    FEATURE_OFF,
    RULES,
    ActionError,
    ActionSpec,
    owned,
    owned_image,
    require_feature,
    screen_prompt,
)
from webapp.services.actions.autoformat import (
    FILLS,
    OUTPUTS,
    AutoformatSettings,
    UploadOutcome,
    autoformat_asset,
    autoformat_upload,
)
from webapp.services.actions.palettes import extract_palette
from webapp.services.actions.generation import animate, generate, voiceover
from webapp.services.actions.describe import describe_images
from webapp.services.actions.control import (
    cancel_job,
    retry_job,
    set_favorite,
    staff_cancel_job,
    staff_retry_job,
)
# isort: on

__all__ = [
    "ACTIONS",
    "ACTION_STATUS",
    "FEATURE_OFF",
    "FILLS",
    "OUTPUTS",
    "RULES",
    "ActionError",
    "ActionSpec",
    "AutoformatSettings",
    "UploadOutcome",
    "animate",
    "autoformat_asset",
    "autoformat_upload",
    "cancel_job",
    "describe_images",
    "extract_palette",
    "generate",
    "owned",
    "owned_image",
    "require_feature",
    "retry_job",
    "screen_prompt",
    "set_favorite",
    "staff_cancel_job",
    "staff_retry_job",
    "voiceover",
]

"""Planning a request before anything is sent, and submitting it: the one domain path every tool takes.

```python
from mvsep_mcp.planning import plan_separation, submit_plan

plan = await plan_separation(session, inputs=["~/Music/song.flac"], model="BS Roformer", output_format="wav")
plan.total_credits, plan.spends_credits, plan.balance      # the quote, before anything is spent
records = await submit_plan(session, plan)                 # jobs recorded, creates sent, refusals raised
```

Every refusal is a :class:`PlanError` (or a catalogue / media error) whose message names the fix.
"""

from __future__ import annotations

from mvsep_mcp.planning.chains import PlannedStep, ThenStep, then_steps
from mvsep_mcp.planning.consent import (
    Decision,
    confirmation_needed,
    consent_question,
    credits_text,
    spending_decision,
)
from mvsep_mcp.planning.errors import NotEnoughCredits, PlanError
from mvsep_mcp.planning.inputs import (
    PlannedInput,
    absolute_path,
    describe_file,
    expand_inputs,
    is_url,
    readable_file,
)
from mvsep_mcp.planning.model import choose_model, model_widget, output_format_code
from mvsep_mcp.planning.plans import Plan, plan_mastering, plan_separation, plan_text
from mvsep_mcp.planning.submit import SubmissionRefused, submit_plan

__all__ = [
    "Decision",
    "confirmation_needed",
    "consent_question",
    "credits_text",
    "spending_decision",
    "NotEnoughCredits",
    "Plan",
    "PlanError",
    "PlannedStep",
    "ThenStep",
    "then_steps",
    "PlannedInput",
    "SubmissionRefused",
    "absolute_path",
    "choose_model",
    "describe_file",
    "expand_inputs",
    "is_url",
    "model_widget",
    "output_format_code",
    "plan_mastering",
    "plan_separation",
    "plan_text",
    "readable_file",
    "submit_plan",
]

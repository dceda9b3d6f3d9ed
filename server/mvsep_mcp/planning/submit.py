"""Turning a plan into jobs: the one path every tool takes to spend credits.

The jobs are recorded in the journal before anything is sent (so nothing is lost or created twice), then the call
waits a short while for the creates, so that a refusal (a bad option, a premium-only model) shows in its own answer.
A chain's later steps are recorded with the request too, each waiting for the job of the step before
(:mod:`mvsep_mcp.jobs.chains` sends it once that job has completed).
"""

from __future__ import annotations

from mvsep_mcp import policy
from mvsep_mcp.jobs.batches import new_batch_id
from mvsep_mcp.jobs.errors import JobError
from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.planning.plans import Plan
from mvsep_mcp.session import Account, Session


class SubmissionRefused(JobError):
    """MVSep refused every job of a request."""


async def submit_plan(session: Session, plan: Plan, *, wait_s: float = policy.SUBMIT_WAIT_S,
                      account: Account | None = None) -> list[JobRecord]:
    """Record the plan's jobs (one batch) for ``account`` (default: the session's), let the runner send them, and
    return them once submitted (or after ``wait_s``; 0 returns as soon as they are recorded)."""
    plan.check_credits()
    account = account or session.require_account()
    specs = plan.specs(account_key=account.key, base_url=session.settings.base_url, batch_id=new_batch_id())
    await account.before_jobs()
    steps = [await session.runner.submit(specs)]
    for number in range(2, len(plan.then) + 2):  # a chain: every later step recorded now, sent once it can be
        steps.append(await session.runner.submit(plan.step_specs(steps[-1], number)))
    records = await session.runner.wait(account.key, [r.id for r in steps[0]],
                                        timeout=min(wait_s, policy.WAIT_CALL_BUDGET_S), until="submitted")
    failed = [r for r in records if r.state is JobState.FAILED]
    if records and len(failed) == len(records):
        raise SubmissionRefused(refusal_message(failed))
    later = [[session.runner.get(account.key, r.id) for r in step] for step in steps[1:]]
    return [record for jobs in zip(records, *later, strict=True) for record in jobs]  # each input's steps together


def refusal_message(failed: list[JobRecord]) -> str:
    """Each job's error is already a sentence naming the fix: the first one, with a count when there were several."""
    first = failed[0].error or "MVSep refused the job without giving a reason; check the model and submit again."
    return first if len(failed) == 1 else f"None of the {len(failed)} jobs could be submitted. The first: {first}"

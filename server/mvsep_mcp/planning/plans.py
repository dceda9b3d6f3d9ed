"""A request, planned: the model, options, destination, inputs and their cost, ready to become jobs.

Every way of starting jobs (separate files, folders or URLs; master a track to a reference; run a text-input model)
goes through a ``plan_*`` function here, then :func:`mvsep_mcp.planning.submit.submit_plan`. Planning checks
everything that can be known before a create (the token, the model and options for this account, the output format
and naming template, every input, the credits) and sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import anyio.to_thread

from mvsep_mcp.catalog import CostEstimate, estimate_cost
from mvsep_mcp.config import Settings
from mvsep_mcp.hosted.errors import NotOnThisServer
from mvsep_mcp.hosted.storage import check_quota
from mvsep_mcp.jobs.models import ChainLink, ChainStep, JobRecord, JobSpec
from mvsep_mcp.media.naming import validate_template
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE
from mvsep_mcp.mvsep.models import Algorithm, UserInfo
from mvsep_mcp.mvsep.separation_request import RemoteType
from mvsep_mcp.planning.chains import PlannedStep, ThenStep, check_stem_uploads, plan_steps
from mvsep_mcp.planning.errors import NotEnoughCredits, PlanError
from mvsep_mcp.planning.inputs import (
    PlannedInput,
    absolute_path,
    describe_file,
    describe_sources,
    expand_inputs,
    is_url,
)
from mvsep_mcp.planning.model import Widget, check_options, choose_model, output_format_code
from mvsep_mcp.planning.output import check_file_names, check_output_folder
from mvsep_mcp.policy import DAW_READY_DEFAULT, MAX_UPLOAD_BYTES_FREE, MAX_UPLOAD_BYTES_PREMIUM
from mvsep_mcp.session import Account, Session

Options = Mapping[str, str | int | float] | None


@dataclass(frozen=True)
class Plan:
    algorithm: Algorithm
    options: dict[str, str]  # {add_optN: key}
    output_format: int
    output_root: Path
    name_template: str
    inputs: list[PlannedInput]
    spends_credits: bool = False  # premium mode is on: jobs spend credits
    balance: float | None = None  # the account's credits
    remote_type: RemoteType = "direct"
    is_demo: bool = False
    daw_ready: bool = DAW_READY_DEFAULT
    daw_session: tuple[str, ...] = ()  # session files to write once a job is done (dawproject, rpp)
    then: tuple[PlannedStep, ...] = ()  # a chain: each later step runs on a stem of the step before

    @property
    def output_format_name(self) -> str:
        return FORMAT_BY_CODE[self.output_format].name

    @property
    def models_text(self) -> str:
        """"BS Roformer (model 40)"; a chain: "… (model 40), then Demucs4 HT (model 20) for its Other stem"."""
        text = f"{self.algorithm.name} (model {self.algorithm.render_id})"
        for step in self.then:
            text += f", then {step.algorithm.name} (model {step.algorithm.render_id}) for its {step.from_stem} stem"
        return text

    def step_estimates(self, item: PlannedInput) -> list[CostEstimate | None]:
        """The cost of each later step of the chain for one input (a stem is as long as its input)."""
        return [estimate_cost(s.algorithm, s.options, item.duration_s) if item.duration_s else None
                for s in self.then]

    def input_credits(self, item: PlannedInput) -> int | None:
        """What one input costs, every step of the chain included; None when its duration is unknown."""
        costs = [item.estimate, *self.step_estimates(item)]
        return sum(c.credits for c in costs if c is not None) if None not in costs else None

    @property
    def total_credits(self) -> int | None:
        """Sum of the estimates, or None when some input's duration is unknown (a URL, a text prompt)."""
        credits = [self.input_credits(i) for i in self.inputs]
        return sum(c for c in credits if c is not None) if None not in credits else None

    def check_upload_sizes(self) -> None:
        """Refuse a file larger than MVSep takes in one upload (more with premium mode on), a chain's stems too."""
        limit = MAX_UPLOAD_BYTES_PREMIUM if self.spends_credits else MAX_UPLOAD_BYTES_FREE
        plan_kind = "" if self.spends_credits else " without premium"
        for item in self.inputs:
            for file in (item, item.reference):
                if file is not None and file.size_bytes is not None and file.size_bytes > limit:
                    raise PlanError(
                        f"{Path(file.source).name} is {file.size_bytes / 2**20:.0f} MB, more than the "
                        f"{limit / 2**20:.0f} MB MVSep takes in one upload{plan_kind}: convert it to FLAC or MP3, "
                        f"or cut it into parts."
                    )
        check_stem_uploads(self.then, self.inputs, self.output_format, limit, plan_kind)

    def check_credits(self) -> None:
        """Refuse a plan whose estimate exceeds the balance when it spends credits."""
        total, balance = self.total_credits, self.balance
        if not self.spends_credits or total is None or balance is None or total <= balance:
            return
        files = "This file needs" if len(self.inputs) == 1 else f"These {len(self.inputs)} files need"
        raise NotEnoughCredits(
            f"{files} about {total} credits and the account has {balance:g}. Buy credits on mvsep.com, separate "
            f"fewer files, or turn premium mode off (set_premium_mode, toolset account) to use the free queue."
        )

    def specs(self, *, account_key: str, base_url: str, batch_id: str | None = None) -> list[JobSpec]:
        """One job spec per input."""
        return [
            JobSpec(
                account_key=account_key,
                base_url=base_url,
                kind=item.kind,
                input_path=item.source if item.kind == "file" else None,
                url=item.source if item.kind == "url" else None,
                remote_type=self.remote_type if item.kind == "url" else None,
                target_path=item.source if item.kind == "matchering" else None,
                reference_path=item.reference.source if item.reference else None,
                sep_type=self.algorithm.render_id,
                model_name=self.algorithm.name,
                options=dict(self.options),
                output_format=self.output_format,
                output_root=str(self.output_root),
                name_template=self.name_template,
                is_demo=self.is_demo,
                estimated_cost=item.estimate.credits if item.estimate else None,
                spends_credits=self.spends_credits,
                batch_id=batch_id,
                input_sha256=item.sha256,
                input_duration_s=item.duration_s,
                daw_ready=self.daw_ready,
                daw_session=[] if self.then else list(self.daw_session),  # a chain's last step writes the session
                reference_sha256=item.reference.sha256 if item.reference else None,
                input_tags=dict(item.tags),
                chain=ChainLink(steps=[ChainStep(model=self.algorithm.name, model_id=self.algorithm.render_id,
                                                 options=dict(self.options))]) if self.then else None,
            )
            for item in self.inputs
        ]

    def step_specs(self, before: Sequence[JobRecord], number: int) -> list[JobSpec]:
        """The jobs of the chain's step ``number`` (2: the first after the request's own model), one per job of the
        step before: the same song, destination and batch, uploading that job's stem once it has completed."""
        step = self.then[number - 2]
        specs = []
        for parent in before:
            link = parent.spec.chain
            assert link is not None, "a chain's first step carries its chain"
            duration = parent.spec.input_duration_s
            steps = [*link.steps[:-1], link.steps[-1].model_copy(update={"job_id": parent.id}),
                     ChainStep(model=step.algorithm.name, model_id=step.algorithm.render_id,
                               options=dict(step.options), from_stem=step.from_stem)]
            specs.append(parent.spec.model_copy(update={
                "kind": "file",
                "remote_type": None,
                "sep_type": step.algorithm.render_id,
                "model_name": step.algorithm.name,
                "options": dict(step.options),
                "estimated_cost": estimate_cost(step.algorithm, step.options, duration).credits if duration else None,
                "daw_session": list(self.daw_session) if number == len(self.then) + 1 else [],
                "chain": ChainLink(steps=steps, after=parent.id, after_key=parent.request_key),
            }))
        return specs


@dataclass(frozen=True)
class _Basis:
    """What every plan starts from: the model and options for this account, the destination, the account's money."""

    algorithm: Algorithm
    options: dict[str, str]
    output_format: int
    output_root: Path
    name_template: str
    user: UserInfo
    daw_ready: bool
    then: tuple[PlannedStep, ...] = ()

    def plan(self, inputs: list[PlannedInput], **extra: object) -> Plan:
        priced = [
            replace(i, estimate=estimate_cost(self.algorithm, self.options, i.duration_s)) if i.duration_s else i
            for i in inputs
        ]
        plan = Plan(algorithm=self.algorithm, options=self.options, output_format=self.output_format,
                    output_root=self.output_root, name_template=self.name_template, inputs=priced,
                    spends_credits=bool(self.user.premium_enabled), balance=self.user.premium_minutes,
                    daw_ready=self.daw_ready, then=self.then, **extra)  # type: ignore[arg-type]
        plan.check_upload_sizes()
        specs = plan.specs(account_key="", base_url="")
        check_file_names(specs, self.algorithm)
        for step in plan.then:  # a chain's stems land in the same folders, named by their own models
            check_file_names([s.model_copy(update={"model_name": step.algorithm.name}) for s in specs],
                             step.algorithm)
        plan.check_credits()
        return plan


async def _basis(
    session: Session,
    *,
    model: str | int | None,
    options: Options,
    widget: Widget,
    output_format: str | None,
    output_dir: str | None,
    name_template: str | None,
    account: Account | None,
    then: Sequence[ThenStep] = (),
) -> _Basis:
    catalog, kind, user = await session.catalog_and_account(account)
    algorithm = choose_model(catalog, model, kind, widget)
    resolved = check_options(algorithm, options, kind)
    steps = plan_steps(catalog, kind, algorithm, resolved, then) if then else ()
    settings: Settings = session.settings
    code = output_format_code(output_format or settings.output_format)
    if account is not None and account.home is not None:  # hosted: the user's own folder, never one they name
        if output_dir:
            raise NotOnThisServer("This server keeps each user's files in their own storage: leave output_dir "
                                  "out; the answers link every file for download.")
        root = account.home
        hosted = settings.hosted
        await anyio.to_thread.run_sync(check_quota, root, hosted.quota_bytes, hosted.retention_days)
    else:
        root = absolute_path(output_dir, "output folder") if output_dir else settings.output_dir
    template = name_template or settings.name_template
    validate_template(template)
    await anyio.to_thread.run_sync(check_output_folder, root)
    return _Basis(algorithm, resolved, code, root, template, user, settings.daw_ready, steps)


async def plan_separation(
    session: Session,
    *,
    inputs: Sequence[str],
    model: str | int,
    options: Options = None,
    output_format: str | None = None,
    output_dir: str | None = None,
    name_template: str | None = None,
    remote_type: RemoteType = "direct",
    recursive: bool = False,
    is_demo: bool = False,
    daw_session: Sequence[str] = (),
    account: Account | None = None,
    then: Sequence[ThenStep] = (),
) -> Plan:
    """Separate local files, folders or URLs with one model; ``daw_session``: session files to write beside each
    job's stems once it is done; ``account``: whose (default: the session's); ``then``: later steps of a chain, each
    on a stem of the step before (see :mod:`mvsep_mcp.planning.chains`)."""
    if account is not None and account.home is not None:
        local = [item for item in inputs if item and item.strip() and not is_url(item)]
        if local:
            raise NotOnThisServer(f"This is a hosted server: it does not read files on its own disk ({local[0]!r}). "
                                  f"Give each song as an http(s) URL that MVSep can download.")
    basis = await _basis(session, model=model, options=options, widget="single_upload", output_format=output_format,
                         output_dir=output_dir, name_template=name_template, account=account, then=then)
    planned = await describe_sources(expand_inputs(inputs, recursive=recursive), session.hashes.sha256)
    return basis.plan(planned, remote_type=remote_type, is_demo=is_demo, daw_session=tuple(daw_session))


async def plan_mastering(
    session: Session,
    *,
    target: str,
    reference: str,
    model: str | int | None = None,
    options: Options = None,
    output_format: str | None = None,
    output_dir: str | None = None,
    account: Account | None = None,
) -> Plan:
    """Master ``target`` to sound like ``reference`` (Matchering); the cost follows the target's duration."""
    if account is not None and account.home is not None:
        raise NotOnThisServer("Mastering uploads two files from the server's own disk, which a hosted server does "
                              "not read: run master_audio on a local mvsep-mcp instead.")
    basis = await _basis(session, model=model, options=options, widget="matchering_upload",
                         output_format=output_format, output_dir=output_dir, name_template=None, account=account)
    target_info = await anyio.to_thread.run_sync(describe_file, absolute_path(target, "target"), session.hashes.sha256)
    reference_info = await anyio.to_thread.run_sync(describe_file, absolute_path(reference, "reference"),
                                                    session.hashes.sha256)
    return basis.plan([replace(target_info, kind="matchering", reference=reference_info)])


async def plan_text(
    session: Session,
    *,
    model: str | int,
    options: Options,
    title: str | None = None,
    output_format: str | None = None,
    output_dir: str | None = None,
    account: Account | None = None,
) -> Plan:
    """Run a model that takes no audio (text to speech, generation); files are named by ``title``."""
    basis = await _basis(session, model=model, options=options, widget="no_upload", output_format=output_format,
                         output_dir=output_dir, name_template=None, account=account)
    return basis.plan([PlannedInput(kind="text", source="", tags={"title": title} if title else {})])

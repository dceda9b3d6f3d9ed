"""A chain of models in one request (``separate_audio`` with ``then``), checked before anything is spent.

The request's own model is the first step; each later step runs its model on a stem of the step before (``from_stem``:
a label or key the catalogue lists for that model with its options, e.g. a vocals model's "Instrumental" fed to a
four-stem model). Refused with one sentence naming what is possible: a chain longer than ``MAX_CHAIN_STEPS``, a
``from_stem`` the step before does not make, a model that cannot take a stem (one that takes no audio, or two files),
a model or option this account may not use, and a stem too large to upload again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mvsep_mcp.catalog import AccountKind, Catalog, check_access
from mvsep_mcp.catalog.facts import stem_choices
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.planning.errors import PlanError
from mvsep_mcp.planning.inputs import PlannedInput
from mvsep_mcp.planning.model import TAKES, check_options, model_widget
from mvsep_mcp.policy import MAX_CHAIN_STEPS


class ThenStep(BaseModel):
    """One step after the request's own model, as the caller gives it."""

    model_config = ConfigDict(extra="forbid")

    from_stem: str = Field(min_length=1)
    model: str | int
    options: dict[str, str | int | float] | None = None  # by label or key, like the request's own


@dataclass(frozen=True)
class PlannedStep:
    """A later step, checked: the stem of the step before it separates (as the catalogue labels it), its model and
    its options (``{add_optN: key}``)."""

    from_stem: str
    algorithm: Algorithm
    options: dict[str, str]


def then_steps(given: Sequence[Mapping[str, Any]]) -> tuple[ThenStep, ...]:
    """The steps as a caller wrote them (JSON objects), read into :class:`ThenStep`; one sentence when one is not."""
    steps = []
    for number, step in enumerate(given, start=2):
        try:
            steps.append(ThenStep.model_validate(step))
        except ValidationError:
            raise PlanError(f"Step {number} of the chain must be an object with from_stem (a stem of the step "
                            f"before) and model, and may have options, e.g. {{\"from_stem\": \"Instrumental\", "
                            f"\"model\": 20}}.") from None
    return tuple(steps)


def plan_steps(catalog: Catalog, account_kind: AccountKind | None, first: Algorithm, first_options: dict[str, str],
               then: Sequence[ThenStep]) -> tuple[PlannedStep, ...]:
    """The later steps of a chain starting with ``first``, each checked against the step before it."""
    if 1 + len(then) > MAX_CHAIN_STEPS:
        raise PlanError(f"A chain runs at most {MAX_CHAIN_STEPS} models in one request and this one has "
                        f"{1 + len(then)}: leave a step out, or separate one of its stems in a second request.")
    steps: list[PlannedStep] = []
    before, before_options = first, first_options
    for number, step in enumerate(then, start=2):
        algorithm = catalog.find(step.model)
        widget = model_widget(algorithm)
        if widget != "single_upload":
            raise PlanError(f"Step {number} of the chain cannot take a stem: {algorithm.name} (model "
                            f"{algorithm.render_id}) takes {TAKES.get(widget, 'other input')}. Choose a model that "
                            f"separates one audio file (search_models with the stem you want).")
        check_access(algorithm, account_kind)
        options = check_options(algorithm, step.options, account_kind)
        steps.append(PlannedStep(stem_label(before, before_options, step.from_stem, number), algorithm, options))
        before, before_options = algorithm, options
    return tuple(steps)


def stem_label(algorithm: Algorithm, options: Mapping[str, str], wanted: str, number: int) -> str:
    """The catalogue's label of the stem ``wanted`` (a label or key, case aside) that ``algorithm`` makes; as given
    when the catalogue does not say what the model makes (the step is then checked once the step before has run)."""
    choices = stem_choices(algorithm, options)
    given = " ".join(wanted.split())
    if not choices:
        return given
    for key, label in choices.items():
        if given.casefold() in (key.casefold(), label.casefold()):
            return label
    made = ", ".join(dict.fromkeys(choices.values()))
    raise PlanError(f"Step {number} of the chain separates {given!r}, which the step before, {algorithm.name}, does "
                    f"not make: give one of {made} as from_stem.")


def check_stem_uploads(steps: Sequence[PlannedStep], inputs: Sequence[PlannedInput], output_format: int,
                       limit: int, plan_kind: str) -> None:
    """Each later step uploads a stem as long as its input, in the request's output format: refuse one larger than
    MVSep takes in one upload (``limit``), before anything is spent."""
    if not steps:
        return
    rate = FORMAT_BY_CODE[output_format].bytes_per_s
    for item in inputs:
        size = (item.duration_s or 0.0) * rate
        if size > limit:
            raise PlanError(
                f"A chain uploads each stem of {Path(item.source).name} again, about {size / 2**20:.0f} MB in "
                f"{FORMAT_BY_CODE[output_format].name}, more than the {limit / 2**20:.0f} MB MVSep takes in one "
                f"upload{plan_kind}: choose output_format flac or mp3, or cut the song into parts.")

"""Toolset ``catalog``: search MVSep's models, read one model's details (options, price, who may use it), and the
models for a stem ranked by MVSep's quality-checker leaderboard."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.catalog import ModelDetails, Ranking, Recommended, access_label, describe, recommend
from mvsep_mcp.catalog.facts import group_name, output_labels, rating_average, rating_total, short_description
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.policy import RECOMMEND_DEFAULT_LIMIT
from pydantic import Field

from mvsep_mcp_tools._caller import account_or_none, session_of
from mvsep_mcp_tools._registration import READ_ONLY, ToolOutput, result, tool


class ModelSummary(ToolOutput):
    render_id: int
    name: str
    group: str
    outputs: list[str]
    access: str
    price_coefficient: float
    rating: float | None = None
    rating_votes: int = 0
    usage: int = 0
    summary: str = ""


class SearchResult(ToolOutput):
    models: list[ModelSummary]
    total: int
    next_offset: int | None = None
    stale: bool = False  # MVSep was unreachable: a cached catalogue was used


def summary_of(algorithm: Algorithm) -> ModelSummary:
    return ModelSummary(
        render_id=algorithm.render_id,
        name=algorithm.name,
        group=group_name(algorithm),
        outputs=output_labels(algorithm),
        access=access_label(algorithm),
        price_coefficient=float(algorithm.price_coefficient or 1),
        rating=rating_average(algorithm),
        rating_votes=rating_total(algorithm),
        usage=algorithm.usage,
        summary=short_description(algorithm)[:200],
    )


class Recommendation(ToolOutput):  # every field is always there; defaults keep the schema short (no "required")
    render_id: int = 0
    name: str = ""
    score: float = 0.0
    access: str = ""
    credits_per_min: int = 0
    options: dict[str, str] = Field(default_factory=dict)


class RecommendOut(ToolOutput):
    metric: str = ""
    dataset: str = ""
    models: list[Recommendation] = Field(default_factory=list)


def recommendation_of(model: Recommended) -> Recommendation:
    access = model.access if model.usable else f"{model.access}, not this account"
    return Recommendation(render_id=model.algorithm.render_id, name=model.algorithm.name, score=model.score.value,
                          access=access, credits_per_min=model.credits_per_minute, options=model.options)


def ranking_text(ranking: Ranking, out: RecommendOut) -> str:
    lines = [f"Ranked by {ranking.metric} (higher is better) on the quality checker's {ranking.dataset} leaderboard:"]
    for number, (model, shown) in enumerate(zip(ranking.models, out.models, strict=True), start=1):
        others = ", ".join(f"{k} {v:g}" for k, v in model.score.metrics.items())
        options = f"; options {shown.options}" if shown.options else ""
        lines.append(f"{number}. {shown.render_id}: {shown.name} — {shown.score:g}{f' ({others})' if others else ''} "
                     f"as {model.score.entry.algo_name!r}; {shown.access}; {shown.credits_per_min} credit(s)/min"
                     f"{options}")
    if not ranking.models:
        lines.append(f"None of the {ranking.matched} scored models is within max_credits.")
    if ranking.unmatched:
        lines.append(f"{ranking.unmatched} scored entries name no model of the catalogue and are left out.")
    if ranking.stale:
        lines.append("(MVSep unreachable: cached leaderboard.)")
    lines.append("Pass render_id as model (and the options) to separate_audio.")
    return "\n".join(lines)


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="search_models", annotations=READ_ONLY)
    async def search_models(
        ctx: Context[Any, Any],
        text: Annotated[
            str | None, Field(description="e.g. roformer")
        ] = None,
        stem: Annotated[
            str | None,
            Field(
                description="e.g. vocals"
            ),
        ] = None,
        group: Annotated[
            str | None,
            Field(description="e.g. Multistem, Vocals"),
        ] = None,
        sort: Literal["rating", "usage", "name", "price"] = "rating",
        usable_only: Annotated[bool, Field(description="Only usable ones")] = False,
        include_inactive: bool = False,
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Find models: render_id, stems, access, price."""
        session = session_of(ctx)
        catalog = await session.catalog()
        account = await account_or_none(ctx) if usable_only else None
        kind = await account.kind() if account is not None else None
        page = catalog.search(
            text=text,
            group=group,
            stem=stem,
            sort=sort,
            include_inactive=include_inactive,
            account_kind=kind,
            usable_only=usable_only,
            limit=limit,
            offset=offset,
        )
        out = SearchResult(
            models=[summary_of(a) for a in page.items],
            total=page.total,
            next_offset=page.next_offset,
            stale=catalog.stale,
        )
        if not out.models:
            groups = ", ".join(name for name, _ in catalog.groups()[:15])
            return result(out, f"No model matched. Try fewer words, a stem like 'vocals', or a group: {groups}.")
        lines = [
            f"- {m.render_id}: {m.name} → {', '.join(m.outputs) or '?'} "
            f"(rating {m.rating if m.rating is not None else '–'}, {m.access}, ×{m.price_coefficient:g})"
            for m in out.models
        ]
        more = f"\nMore: call again with offset={out.next_offset}." if out.next_offset is not None else ""
        stale = "\n(MVSep unreachable: cached catalogue.)" if out.stale else ""
        return result(out, f"{page.total} models match; showing {len(lines)}:\n" + "\n".join(lines) + more + stale)

    @tool(server, name="get_model", annotations=READ_ONLY)
    async def get_model(
        ctx: Context[Any, Any],
        model: Annotated[str | int, Field(description="render_id or name")],
    ) -> Annotated[CallToolResult, ModelDetails]:
        """A model's stems, access, price, options."""
        session = session_of(ctx)
        catalog = await session.catalog()
        algorithm = catalog.find(model)
        details = describe(algorithm)
        lines = [
            f"{details.name} (model {details.render_id}) — {details.group}; {details.access}; "
            f"price ×{details.price_coefficient:g}; outputs: {', '.join(details.outputs) or '?'}"
        ]
        if details.short_description:
            lines.append(details.short_description)
        for f in details.fields:
            choices = "; ".join(
                f"{o.key}={o.label}" + (f" (×{o.price_multiplier:g} price)" if o.price_multiplier else "")
                for o in f.options[:12]
            )
            more = f" … ({len(f.options)} choices)" if len(f.options) > 12 else ""
            default = f", default {f.default_label or f.default_key}" if f.default_key is not None else ""
            cond = f" [{'; '.join(f.conditions)}]" if f.conditions else ""
            lines.append(f"- {f.label} ({f.name}, {f.input_type}{default}){cond}: {choices}{more}")
        return result(details, "\n".join(lines))

    @tool(server, name="recommend_models", annotations=READ_ONLY)
    async def recommend_models(
        ctx: Context[Any, Any],
        stem: Annotated[str, Field(description="e.g. vocals, drums")],
        max_credits: Annotated[float | None, Field(ge=0, description="Per minute")] = None,
        limit: Annotated[int, Field(ge=1, le=20)] = RECOMMEND_DEFAULT_LIMIT,
    ) -> Annotated[CallToolResult, RecommendOut]:
        """Best models for a stem by quality-checker SDR, with access and price."""
        session = session_of(ctx)
        account = await account_or_none(ctx)
        ranking = await recommend(await session.catalog(), session.leaderboards.board, stem,
                                  account_kind=await account.kind() if account is not None else None,
                                  max_credits=max_credits, limit=limit)
        out = RecommendOut(metric=ranking.metric, dataset=ranking.dataset,
                           models=[recommendation_of(m) for m in ranking.models])
        return result(out, ranking_text(ranking, out))

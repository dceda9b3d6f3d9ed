"""Typed views of MVSep's responses (pydantic v2, every model keeps unknown fields as extras).

Parsing is deliberately lenient (see :mod:`mvsep_mcp.mvsep._lenient`): JSON-in-a-string fields are decoded, numeric
strings become numbers, 0/1 become booleans, PHP's ``[]``-for-empty-object is tolerated. Responses that carry the
API token (``/app/user``, ``/app/login``) keep it in a private attribute, out of ``repr``/``str``/``model_dump``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from mvsep_mcp.mvsep._lenient import (
    Bool,
    Float,
    JsonValue,
    Map,
    OptFloat,
    OptInt,
    OptStr,
    OptStrList,
    StrDict,
    StrList,
    to_list,
)

__all__ = [
    "MVSepModel",
    "OutputFile",
    "InputFile",
    "SeparationData",
    "SeparationResult",
    "CreatedSeparation",
    "AlgorithmGroup",
    "Rating",
    "FieldCondition",
    "PriceRule",
    "AlgorithmField",
    "AlgorithmDescription",
    "Algorithm",
    "AlgorithmRef",
    "UserInfo",
    "LoginResult",
    "HistoryEntry",
    "QueueInfo",
    "NewsItem",
    "DemoItem",
    "QualityEntry",
    "Leaderboard",
    "QualityAdded",
    "RUNNING_STATUSES",
    "DONE_STATUSES",
    "KNOWN_STATUSES",
    "FAILED_STATUSES",
    "TERMINAL_STATUSES",
]


class MVSepModel(BaseModel):
    """Base: unknown fields are kept (``model_extra``), field names may be given by alias."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _list_of(model: type[BaseModel]) -> Any:
    return Annotated[list[model], BeforeValidator(to_list)]  # type: ignore[valid-type]


# --- separation ---------------------------------------------------------------------------------

RUNNING_STATUSES = frozenset({"waiting", "processing", "distributing", "merging"})
DONE_STATUSES = frozenset({"done"})
FAILED_STATUSES = frozenset({"failed", "error"})
TERMINAL_STATUSES = DONE_STATUSES | FAILED_STATUSES | {"not_found"}
KNOWN_STATUSES = RUNNING_STATUSES | TERMINAL_STATUSES


class OutputFile(MVSepModel):
    """One result file: ``type`` is the stem label ("Vocals", "Instrumental", ...), ``download`` the suggested name."""

    type: OptStr = None
    url: str = ""
    size: OptStr = None
    download: OptStr = None


class InputFile(MVSepModel):
    url: OptStr = None
    size: OptStr = None
    download: OptStr = None


class SeparationData(MVSepModel):
    queue_count: OptInt = None
    current_order: OptInt = None
    finished_chunks: OptInt = None
    all_chunks: OptInt = None
    message: OptStr = None
    algorithm: OptStr = None
    algorithm_description: OptStr = None
    output_format: OptStr = None  # a label such as "mp3 (320 kbps)", not the code
    size: OptStr = None
    tags: Map = Field(default_factory=dict)  # getID3: tags.audio, tags.tags.{id3v2|vorbiscomment|...} (lists)
    input_file: InputFile | None = None
    files: _list_of(OutputFile) = Field(default_factory=list)  # type: ignore[valid-type]
    date: OptStr = None
    hash: OptStr = None
    link: OptStr = None
    transcription: Any = None

    @model_validator(mode="before")
    @classmethod
    def _input_file_tolerant(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("input_file"), (dict, type(None))):
            data = {**data, "input_file": None}
        return data


class SeparationResult(MVSepModel):
    """``GET /separation/get``: ``status`` sits beside ``data``. Not-found is a status, not an exception."""

    success: Bool = True
    status: str = "not_found"
    data: SeparationData = Field(default_factory=SeparationData)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            inner = data.get("data")
            if not isinstance(inner, dict):
                data["data"] = {}
            status = data.get("status")
            if status is None and isinstance(inner, dict):
                status = inner.get("status")  # tolerate a status inside data
            data["status"] = str(status).strip().lower() if status is not None else "not_found"
        return data

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_not_found(self) -> bool:
        return self.status == "not_found"

    @property
    def is_terminal(self) -> bool:
        """done, failed/error or not_found: polling will not change it."""
        return self.status in TERMINAL_STATUSES


class CreatedSeparation(MVSepModel):
    hash: str
    link: OptStr = None


# --- catalogue ----------------------------------------------------------------------------------


class AlgorithmGroup(MVSepModel):
    id: OptInt = None
    name: OptStr = None


class Rating(MVSepModel):
    average: OptFloat = None  # MVSep sends a string ("4.5366") or 0
    total: Annotated[int, BeforeValidator(lambda v: int(float(v)) if v not in (None, "") else 0)] = 0


class FieldCondition(MVSepModel):
    """This field applies only when field ``depends_on_field_id`` has (``in``) one of ``value_json`` (``show``)."""

    depends_on_field_id: OptInt = None
    operator: str = "in"
    value_json: StrList = Field(default_factory=list)
    action: str = "show"


class PriceRule(MVSepModel):
    option_key: Annotated[str, BeforeValidator(lambda v: "" if v is None else str(v))] = ""
    mode: str = "multiplier"
    value: Float = 1.0


class AlgorithmField(MVSepModel):
    """One extra option of a model: sent as form field ``name`` (``add_opt1``...) with an option key as value."""

    id: OptInt = None
    name: str = ""
    text: OptStr = None
    options: StrDict = Field(default_factory=dict)  # key -> label, in display order
    default_key: OptStr = None
    server_key: OptStr = None
    input_type: str = "select"
    required: Bool = False
    conditions: _list_of(FieldCondition) = Field(default_factory=list)  # type: ignore[valid-type]
    price_rules: _list_of(PriceRule) = Field(default_factory=list)  # type: ignore[valid-type]
    registered_only_keys: OptStrList = None
    help_link: OptStr = None

    @model_validator(mode="before")
    @classmethod
    def _input_type_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("input_type"):
            data = {**data, "input_type": "select"}
        return data


class AlgorithmDescription(MVSepModel):
    short_description: OptStr = None
    long_description: OptStr = None  # HTML
    lang: OptStr = None


class Algorithm(MVSepModel):
    """A catalogue entry. ``render_id`` is the value to send as ``sep_type`` (``id`` is internal: never send it)."""

    id: OptInt = None
    render_id: int
    name: str = ""
    algorithm_group_id: OptInt = None
    algorithm_group: AlgorithmGroup | None = None
    orientation: Annotated[int, BeforeValidator(lambda v: int(v) if v not in (None, "") else 0)] = 0
    order_id: OptInt = None
    is_active: Bool = True
    price_coefficient: Float = 1.0
    usage: Annotated[int, BeforeValidator(lambda v: int(float(v)) if v not in (None, "") else 0)] = 0
    rating: Rating = Field(default_factory=Rating)
    output_stems: StrList = Field(default_factory=list)
    outputs: StrDict = Field(default_factory=dict)  # stem key -> label (the labels seen as files[].type)
    output_variants: JsonValue = None
    algorithm_fields: _list_of(AlgorithmField) = Field(default_factory=list)  # type: ignore[valid-type]
    algorithm_descriptions: _list_of(AlgorithmDescription) = Field(default_factory=list)  # type: ignore[valid-type]
    description: OptStr = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if not isinstance(data.get("rating"), dict):
                data["rating"] = {}
            group = data.get("algorithm_group")
            if not isinstance(group, dict):
                gid = data.get("algorithm_group_id")
                data["algorithm_group"] = {"id": gid} if gid is not None else None
            if data.get("is_active") is None:
                data["is_active"] = True
        return data

    def field(self, name: str) -> AlgorithmField | None:
        """The field sent as ``name`` (``"add_opt1"``), if the model has one."""
        return next((f for f in self.algorithm_fields if f.name == name), None)

    def short_description(self, lang: str = "en") -> str | None:
        """The plain-text description in ``lang`` (falls back to ``description`` then any language)."""
        descriptions: list[AlgorithmDescription] = self.algorithm_descriptions
        for d in descriptions:
            if d.lang == lang and d.short_description:
                return d.short_description
        if self.description:
            return self.description
        return next((d.short_description for d in descriptions if d.short_description), None)


class AlgorithmRef(MVSepModel):
    """The short algorithm object embedded in history and demo entries."""

    name: OptStr = None
    render_id: OptInt = None
    algorithm_group_id: OptInt = None
    orientation: OptInt = None
    order_id: OptInt = None
    algorithm_group: AlgorithmGroup | None = None


# --- account ------------------------------------------------------------------------------------


class UserInfo(MVSepModel):
    """``GET /app/user``. The token MVSep echoes is kept private: see :meth:`token`."""

    name: OptStr = None
    email: OptStr = None
    premium_minutes: Float = 0.0  # the credit balance
    premium_enabled: Bool = False
    long_filenames_enabled: Bool = False
    current_queue: OptInt = None
    created_at: OptStr = None
    updated_at: OptStr = None

    _api_token: SecretStr | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_token_private(cls, data: Any, handler: Any) -> Any:
        token: Any = None
        if isinstance(data, dict) and ("api_token" in data or "token" in data):
            data = dict(data)
            token = data.pop("api_token", None) or data.pop("token", None)
            data.pop("token", None)
        model = handler(data)
        if isinstance(token, str) and token:
            model._api_token = SecretStr(token)
        return model

    @property
    def has_token(self) -> bool:
        return self._api_token is not None

    def token(self) -> str | None:
        """The API token MVSep returned (``None`` when it sent ``null``). Store it; never print or log it."""
        return self._api_token.get_secret_value() if self._api_token is not None else None


class LoginResult(UserInfo):
    """``POST /app/login``: the account, and (maybe) its token for ``mvsep-mcp login`` to store via :meth:`token`."""


class HistoryEntry(MVSepModel):
    id: OptInt = None
    hash: str = ""
    created_at: OptStr = None
    updated_at: OptStr = None
    job_exists: Bool = False
    credits: OptFloat = None  # null when no job was run
    time_left: OptFloat = None  # hours until deletion; negative once the files are gone
    algorithm: AlgorithmRef | None = None


# --- site ---------------------------------------------------------------------------------------


class QueueInfo(MVSepModel):
    """``GET /app/queue``: per-plan queue lengths; ``plan`` only when a token was sent."""

    queue: Map = Field(default_factory=dict)
    plan: JsonValue = None


class NewsItem(MVSepModel):
    id: OptInt = None
    title: OptStr = None
    lang: OptStr = None
    text: OptStr = None  # HTML
    status: OptInt = None
    created_at: OptStr = None
    updated_at: OptStr = None


class DemoItem(MVSepModel):
    hash: str = ""
    date: OptStr = None
    input_audio: OptStr = None
    size: OptStr = None
    algorithm: AlgorithmRef | None = None


# --- quality checker ----------------------------------------------------------------------------


class QualityEntry(MVSepModel):
    """A quality-checker submission; per-stem scores arrive as ``sdr_<stem>`` extras (see :attr:`sdr`)."""

    id: OptInt = None
    dataset_type: OptInt = None
    dataset_name: OptStr = None
    date: OptStr = None
    algo_name: OptStr = None
    main_text: OptStr = None
    proc: JsonValue = None
    proc_remote_date: OptStr = None
    msg: OptStr = None
    metrics: JsonValue = None

    @property
    def sdr(self) -> dict[str, float]:
        """``{"vocals": 11.2, ...}`` from the ``sdr_<stem>`` fields that parse as numbers."""
        out: dict[str, float] = {}
        for key, value in (self.model_extra or {}).items():
            if key.startswith("sdr_"):
                try:
                    out[key[4:]] = float(value)
                except (TypeError, ValueError):
                    continue
        return out


class Leaderboard(MVSepModel):
    data: _list_of(QualityEntry) = Field(default_factory=list)  # type: ignore[valid-type]
    dataset_type: OptInt = None
    sortables: JsonValue = None
    sort: JsonValue = None


class QualityAdded(MVSepModel):
    id: OptInt = None
    link: OptStr = None

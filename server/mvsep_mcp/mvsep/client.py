"""``MVSepClient``: one async method per MVSep API endpoint.

Retries follow :mod:`mvsep_mcp.mvsep.retry`; errors are the tree in :mod:`mvsep_mcp.mvsep.errors`; responses are
parsed into :mod:`mvsep_mcp.mvsep.models`. The token goes as ``api_token`` (form field on POST, query parameter on
GET), only to endpoints that take it, and never into a log line, an error or a repr.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from mvsep_mcp.mvsep import errors, models
from mvsep_mcp.mvsep._download import Progress, download
from mvsep_mcp.mvsep._engine import CreateContext, Engine, RequestStats
from mvsep_mcp.mvsep._envelope import extract_message
from mvsep_mcp.mvsep._transport import shared_pool, shared_tls_context
from mvsep_mcp.mvsep.hosts import DownloadHosts
from mvsep_mcp.mvsep.retry import Idempotency, RetryPolicy
from mvsep_mcp.mvsep.separation_request import SeparationRequest
from mvsep_mcp.policy import (
    CONNECT_TIMEOUT_S,
    DEFAULT_BASE_URL,
    MAX_RETRIES,
    POOL_TIMEOUT_S,
    READ_TIMEOUT_S,
    WRITE_TIMEOUT_S,
)

logger = logging.getLogger("mvsep_mcp.mvsep")
M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(
    connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S, write=WRITE_TIMEOUT_S, pool=POOL_TIMEOUT_S
)


def _data(body: Any) -> Any:
    """``body["data"]`` for ``{success, data}`` envelopes, else the body itself."""
    if isinstance(body, dict) and "data" in body:
        return body["data"]
    return body


def _record(body: Any) -> Any:
    """The object of a ``{success, data:{..}}`` envelope (``None`` when the envelope has no object)."""
    if isinstance(body, dict) and ("data" in body or "success" in body):
        data = body.get("data")
        return data if isinstance(data, dict) else None
    return body


def _items(body: Any) -> list[Any] | None:
    """A list from a bare array, ``{data:[..]}`` or ``{data:{data:[..]}}``."""
    for candidate in (body, _data(body), _data(_data(body))):
        if isinstance(candidate, list):
            return candidate
        if isinstance(candidate, dict) and candidate and all(str(k).isdigit() for k in candidate):
            return list(candidate.values())  # a PHP array with holes arrives as an object
    return None


class MVSepClient:
    """Async client for the MVSep API (``https://mvsep.com/api`` or a regional host or the local sandbox)."""

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        max_retries: int = MAX_RETRIES,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        retry_policy: RetryPolicy | None = None,
        download_hosts: Sequence[str] = (),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """``download_hosts``: mirrors (host names or ``*.domain``) files may come from besides the base URL's site.
        ``http``: a client shared with others (:func:`shared_client`: one pool for a server's accounts), which this
        one uses and never closes; by default a client of its own."""
        # the environment's proxies apply when no transport is given (httpx's own rule), as for any httpx client
        self._owns_http = http is None
        self._closed = False
        self._http = http or httpx.AsyncClient(
            transport=transport, verify=shared_tls_context() if transport is None else True,
            timeout=timeout or DEFAULT_TIMEOUT, headers={"Accept": "application/json"})
        self.stats = RequestStats()
        policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._engine = Engine(token=token, base_url=base_url, client=self._http, policy=policy, sleep=sleep,
                              stats=self.stats)
        self.download_hosts = DownloadHosts.for_base_url(self._engine.base_url, download_hosts)

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._engine.base_url

    @property
    def has_token(self) -> bool:
        return self._engine.token is not None

    def __repr__(self) -> str:
        return f"MVSepClient(base_url={self.base_url!r}, token={'***' if self.has_token else None})"

    async def __aenter__(self) -> MVSepClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = self._engine.closed = True
        if self._owns_http:
            await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._closed or self._http.is_closed

    # --- parsing helpers ------------------------------------------------------------------------

    def _invalid(self, what: str, body: Any, method: str, path: str, detail: str = "") -> errors.InvalidResponseError:
        extra = f" ({detail})" if detail else ""
        return errors.InvalidResponseError(
            f"expected {what}{extra}", status_code=200, body=self._engine.redactor.json(body), method=method, path=path
        )

    def _one(self, model: type[M], value: Any, body: Any, method: str, path: str) -> M:
        if not isinstance(value, dict):
            raise self._invalid(f"a JSON object for {model.__name__}", body, method, path)
        try:
            return model.model_validate(value)
        except ValidationError as exc:  # its text quotes input values: not chained onto our error
            count = exc.error_count()
        raise self._invalid(model.__name__, body, method, path, f"{count} invalid fields")

    def _many(self, model: type[M], body: Any, method: str, path: str) -> list[M]:
        items = _items(body)
        if items is None:
            raise self._invalid(f"a JSON array of {model.__name__}", body, method, path)
        out: list[M] = []
        for item in items:
            try:
                out.append(model.model_validate(item))
            except ValidationError as exc:  # one odd entry must not hide the others
                logger.warning("skipping an unreadable %s from %s: %d errors", model.__name__, path, exc.error_count())
        return out

    def _message(self, body: Any, default: str = "") -> str:
        return self._engine.redactor.text(extract_message(body) or default)

    # --- separation -----------------------------------------------------------------------------

    async def create_separation(
        self, request: SeparationRequest, *, on_body_sent: Callable[[], None] | None = None
    ) -> models.CreatedSeparation:
        """Start a job. Never re-sent blindly: see :class:`mvsep_mcp.mvsep.errors.AmbiguousCreateError`.

        ``on_body_sent()`` runs just before the request's last bytes go out: a caller that records it knows, after a
        crash, whether MVSep can have received the whole request.
        """
        files = request.upload_files()
        for _, path in files:
            if not await anyio.Path(path).is_file():
                raise FileNotFoundError(f"input file not found: {path}")
        path_ = "/separation/create"
        body = await self._engine.call(
            "POST", path_, fields=request.form_fields(), files=files, auth="required",
            idempotency=Idempotency.CREATE, create=CreateContext(request.sep_type, request.display_name),
            on_body_sent=on_body_sent,
        )
        data = _data(body)
        if not isinstance(data, dict) or not data.get("hash"):
            raise self._invalid("data.hash in the create answer", body, "POST", path_)
        return self._one(models.CreatedSeparation, data, body, "POST", path_)

    async def _get_result(self, path: str, hash_: str, params: dict[str, Any], auth: Any) -> models.SeparationResult:
        body = await self._engine.call(
            "GET", path, params={"hash": hash_, **params}, auth=auth,
            tolerate=lambda b: isinstance(b, dict) and isinstance(b.get("status"), str),
        )
        return self._one(models.SeparationResult, body, body, "GET", path)

    async def get_separation(self, hash_: str, mirror: bool = False) -> models.SeparationResult:
        """The job's status and (when done) files. ``mirror=True`` asks another mirror (needs the token, 1 credit)."""
        if mirror:
            return await self._get_result("/separation/get", hash_, {"mirror": 1}, "required")
        return await self._get_result("/separation/get", hash_, {}, "optional")

    async def get_remote_separation(self, hash_: str) -> models.SeparationResult:
        """For URL jobs: when done, ``data.hash`` is a new hash to poll with :meth:`get_separation`."""
        return await self._get_result("/separation/get-remote", hash_, {}, "optional")

    async def cancel_separation(self, hash_: str) -> bool:
        """``True`` when MVSep cancelled (and refunded) the job; ``False`` when unknown, running or expired."""
        body = await self._engine.call(
            "POST", "/separation/cancel", fields={"hash": hash_}, auth="required",
            tolerate=lambda b: isinstance(b, dict) and "success" in b,
        )
        return isinstance(body, dict) and body.get("success") in (True, 1, "true")

    # --- catalogue ------------------------------------------------------------------------------

    async def algorithms(self, scopes: str | Sequence[str] | None = None) -> list[models.Algorithm]:
        """The catalogue (default scope ``single_upload``; also ``no_upload``, ``matchering_upload``)."""
        params: dict[str, Any] = {}
        if scopes:
            params["scopes"] = scopes if isinstance(scopes, str) else ",".join(scopes)
        body = await self._engine.call("GET", "/app/algorithms", params=params)
        return self._many(models.Algorithm, body, "GET", "/app/algorithms")

    # --- account --------------------------------------------------------------------------------

    async def user(self) -> models.UserInfo:
        body = await self._engine.call("GET", "/app/user", auth="required")
        return self._one(models.UserInfo, _record(body), body, "GET", "/app/user")

    async def login(self, email: str, password: str) -> models.LoginResult:
        """Exchange credentials for the account (and its token: ``result.token()``)."""
        body = await self._engine.call("POST", "/app/login", fields={"email": email, "password": password})
        return self._one(models.LoginResult, _record(body), body, "POST", "/app/login")

    async def register(self, name: str, email: str, password: str, password_confirmation: str) -> str:
        body = await self._engine.call(
            "POST", "/app/register", idempotency=Idempotency.UNSAFE,
            fields={"name": name, "email": email, "password": password,
                    "password_confirmation": password_confirmation},
        )
        return self._message(body, "registered")

    async def separation_history(self, start: int = 0, limit: int = 20) -> list[models.HistoryEntry]:
        """The account's jobs, newest first (MVSep caps ``limit`` at 20)."""
        body = await self._engine.call(
            "GET", "/app/separation_history", params={"start": start, "limit": limit}, auth="required"
        )
        return self._many(models.HistoryEntry, body, "GET", "/app/separation_history")

    async def _toggle(self, path: str) -> str:
        body = await self._engine.call("POST", path, auth="required")
        return self._message(body, "ok")

    async def enable_premium(self) -> str:
        return await self._toggle("/app/enable_premium")

    async def disable_premium(self) -> str:
        return await self._toggle("/app/disable_premium")

    async def enable_long_filenames(self) -> str:
        return await self._toggle("/app/enable_long_filenames")

    async def disable_long_filenames(self) -> str:
        return await self._toggle("/app/disable_long_filenames")

    # --- site -----------------------------------------------------------------------------------

    async def queue(self) -> models.QueueInfo:
        """Queue lengths per plan (and the account's ``plan`` when a token is configured)."""
        body = await self._engine.call("GET", "/app/queue", auth="optional")
        value = body if isinstance(body, dict) and "queue" in body else _data(body)
        return self._one(models.QueueInfo, value, body, "GET", "/app/queue")

    async def news(self, lang: str = "en", start: int = 0, limit: int = 20) -> list[models.NewsItem]:
        body = await self._engine.call("GET", "/app/news", params={"lang": lang, "start": start, "limit": limit})
        return self._many(models.NewsItem, body, "GET", "/app/news")

    async def demo(self, start: int = 0, limit: int = 20) -> list[models.DemoItem]:
        body = await self._engine.call("GET", "/app/demo", params={"start": start, "limit": limit})
        return self._many(models.DemoItem, body, "GET", "/app/demo")

    # --- quality checker ------------------------------------------------------------------------

    async def quality_queue(self, start: int = 0, limit: int = 20) -> list[models.QualityEntry]:
        body = await self._engine.call("GET", "/quality_checker/queue", params={"start": start, "limit": limit})
        return self._many(models.QualityEntry, body, "GET", "/quality_checker/queue")

    async def quality_leaderboard(
        self,
        dataset_type: int = 0,
        start: int = 0,
        limit: int = 20,
        algo_name_filter: str | None = None,
        sort: str | None = None,
    ) -> models.Leaderboard:
        path = "/quality_checker/leaderboard"
        params = {"dataset_type": dataset_type, "start": start, "limit": limit,
                  "algo_name_filter": algo_name_filter, "sort": sort}
        body = await self._engine.call("GET", path, params=params)
        value = body
        if isinstance(body, list):
            value = {"data": body}
        elif isinstance(body, dict) and isinstance(body.get("data"), dict):
            value = body["data"]  # {success, data:{data:[..], sortables, ...}}
        return self._one(models.Leaderboard, value, body, "GET", path)

    async def quality_entry(self, entry_id: int) -> models.QualityEntry:
        body = await self._engine.call("GET", "/quality_checker/entry", params={"id": entry_id})
        value = _data(body) if isinstance(_data(body), dict) else body
        return self._one(models.QualityEntry, value, body, "GET", "/quality_checker/entry")

    async def quality_add(
        self,
        zipfile: Path | str,
        *,
        algo_name: str,
        main_text: str,
        dataset_type: int,
        ensemble: bool = False,
        password: str,
    ) -> models.QualityAdded:
        """Submit a zip of separated stems to the public quality checker (not retried once sent)."""
        path = Path(zipfile)
        if not await anyio.Path(path).is_file():
            raise FileNotFoundError(f"zip file not found: {path}")
        fields = {"algo_name": algo_name, "main_text": main_text, "dataset_type": str(dataset_type),
                  "ensemble": "1" if ensemble else "0", "password": password}
        body = await self._engine.call("POST", "/quality_checker/add", fields=fields, files=[("zipfile", path)],
                                       auth="required", idempotency=Idempotency.UNSAFE)
        return self._one(models.QualityAdded, _record(body), body, "POST", "/quality_checker/add")

    async def quality_delete(self, entry_id: int, password: str) -> str:
        body = await self._engine.call("POST", "/quality_checker/delete", idempotency=Idempotency.UNSAFE,
                                       fields={"id": str(entry_id), "password": password})
        return self._message(body, "deleted")

    # --- files ----------------------------------------------------------------------------------

    async def download(self, url: str, dest_path: Path | str, progress: Progress | None = None) -> int:
        """Stream a result file to ``dest_path`` (a temp path), resuming a partial file with ``Range``; bytes total.

        The token is never sent with downloads, and only hosts of :attr:`download_hosts` are asked (else
        ``UntrustedHostError``, before anything is sent). ``progress(done_bytes, total_bytes_or_None)`` may be async.
        """
        return await download(self._engine, url, Path(dest_path), self.download_hosts, progress)


def shared_client() -> httpx.AsyncClient:
    """The HTTP client (one bounded connection pool) that a server's ``MVSepClient``s share: pass it as ``http``."""
    return shared_pool(DEFAULT_TIMEOUT)

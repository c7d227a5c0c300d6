"""Async iCIMS REST client (API_NOTES 2-6, docs/RECORDS.md).

    async with ICIMSClient.from_settings(settings, budget=RequestBudget.from_settings(settings)) as icims:
        person = await icims.get_profile("people", 12, fields=["firstname", "email"])
        async for page in icims.search_ids("people", query, priority=Priority.BACKGROUND):
            ...

Every call takes a `priority`; each HTTP attempt (retries and the resend after a token refresh
included) first takes one request from the optional `RequestBudget`, and every response's
`x-ratelimit-*` headers resync that budget. A semaphore bounds requests in flight; it is not held
while backing off.
"""

from __future__ import annotations

import asyncio
import email.message
import email.parser
import email.policy
import logging
import random
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from tools.icims.auth import TOKEN_EXTENSION, auth_from_settings
from tools.icims.budget import Priority, RequestBudget
from tools.icims.codes import (
    APPLICANT_NEW_SUBMISSION,
    SOURCE_ORIGIN_WEB_SERVICES,
    SOURCE_WORKFLOW_NEEDS_REVIEW,
)
from tools.icims.errors import ICIMSError, ICIMSUnavailable
from tools.icims.models import ApplicantWorkflow, AssessmentResult, Job, Person, SourceWorkflow
from tools.icims.retry import RateLimit, RetryPolicy, error_for_response, parse_rate_limit
from tools.icims.search import ENTITY, PAGE_SIZE, SearchQuery, with_id_after

if TYPE_CHECKING:
    from tools.settings import Settings

__all__ = ["BinaryFile", "ICIMSClient"]

logger = logging.getLogger(__name__)

ATTEMPT_EXTENSION = "icims_attempt"
WORKFLOW_KINDS = frozenset(
    {"applicantworkflows", "sourceworkflows", "onboardworkflows", "connecteventworkflows"}
)
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class BinaryFile:
    content: bytes
    content_type: str
    filename: str | None


@dataclass
class _Attempt:
    """Per-attempt bookkeeping shared with the event hooks through `request.extensions`."""

    priority: Priority
    # An API request was handed to the transport and no response has come back for it yet.
    awaiting: bool = False


def _segment(value: str | int, what: str) -> str:
    text = str(value)
    if not _SEGMENT.match(text):
        raise ValueError(f"invalid iCIMS {what}: {value!r}")
    return text


def _id_from_location(response: httpx.Response) -> int:
    location = response.headers.get("location", "")
    tail = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise ICIMSError(
            response.status_code,
            message=f"create answered without a usable Location header ({location!r})",
            method=response.request.method,
            path=response.request.url.path,
            transaction=response.headers.get("x-transaction"),
        )
    return int(tail)


def _parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _filename(response: httpx.Response) -> str | None:
    disposition = response.headers.get("content-disposition")
    if not disposition:
        return None
    message = email.message.Message()
    message["content-disposition"] = disposition
    return message.get_filename()


def _text_from_response(response: httpx.Response) -> str | None:
    """The `/text` endpoint answers multipart with a UTF-8 `text/plain` part (API_NOTES 3.4);
    plain text is accepted too."""
    content_type = response.headers.get("content-type", "")
    main = content_type.split(";", 1)[0].strip().lower()
    if main.startswith("multipart/"):
        raw = (
            f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1") + response.content
        )
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        for part in message.walk():
            if part.is_multipart() or part.get_content_type() != "text/plain":
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        return None
    if main == "application/json":
        return None  # an error document served with 200 (seen for files, see get_binary)
    return response.content.decode(response.charset_encoding or "utf-8", errors="replace")


class ICIMSClient:
    def __init__(
        self,
        *,
        base_url: str,
        customer_id: int,
        auth: httpx.Auth | None,
        budget: RequestBudget | None = None,
        timeout: float = 30.0,
        max_retries: int = 6,
        max_concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_wait_base: float = 0.5,
        retry_wait_max: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.customer_id = int(customer_id)
        self.auth = auth
        self.budget = budget
        self.retry_policy = RetryPolicy(
            max_retries=max_retries,
            wait_base=retry_wait_base,
            wait_max=retry_wait_max,
            rng=rng if rng is not None else random.Random(),
        )
        # Injectable so tests can record backoff waits instead of sleeping through them.
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._requests_sent = 0
        self._last_response_date: datetime | None = None
        self._last_rate_limit: RateLimit | None = None
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            headers={"accept": "application/json", "user-agent": "icims-agents/0.1"},
            event_hooks={"request": [self._on_request], "response": [self._on_response]},
            follow_redirects=False,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        budget: RequestBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **overrides: Any,
    ) -> ICIMSClient:
        options: dict[str, Any] = {
            "base_url": settings.icims_base_url,
            "customer_id": settings.icims_customer_id,
            "auth": auth_from_settings(settings),
            "budget": budget,
            "timeout": settings.icims_timeout_seconds,
            "max_retries": settings.icims_max_retries,
            "max_concurrency": settings.icims_max_concurrency,
            "transport": transport,
        }
        options.update(overrides)
        return cls(**options)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- observability -------------------------------------------------------------------------

    @property
    def requests_sent(self) -> int:
        """API requests handed to the transport (retries and auth resends included, token requests not)."""
        return self._requests_sent

    @property
    def last_response_date(self) -> datetime | None:
        """The server's `Date` on the latest API response (aware UTC): iCIMS's clock, not ours."""
        return self._last_response_date

    @property
    def last_rate_limit(self) -> RateLimit | None:
        return self._last_rate_limit

    async def _on_request(self, request: httpx.Request) -> None:
        if request.extensions.get(TOKEN_EXTENSION):
            return
        attempt = request.extensions.get(ATTEMPT_EXTENSION)
        if isinstance(attempt, _Attempt):
            if self.budget is not None:
                self.budget.acquire(attempt.priority)
            attempt.awaiting = True
        self._requests_sent += 1

    async def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        if request.extensions.get(TOKEN_EXTENSION):
            return  # the token host's clock and limits are not the API's
        attempt = request.extensions.get(ATTEMPT_EXTENSION)
        if isinstance(attempt, _Attempt):
            attempt.awaiting = False
        date = _parse_http_date(response.headers.get("date"))
        if date is not None:
            self._last_response_date = date
        rate = parse_rate_limit(response.headers, observed_at=date)
        if rate is not None:
            self._last_rate_limit = rate
            if self.budget is not None:
                self.budget.observe(rate.limit, rate.remaining, rate.reset_seconds)

    # --- transport core ------------------------------------------------------------------------

    def _path(self, *parts: str | int) -> str:
        return "/customers/" + "/".join(
            [str(self.customer_id), *(_segment(p, "path segment") for p in parts)]
        )

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        priority: Priority,
        params: Mapping[str, str] | None,
        json: Any,
        files: Mapping[str, Any] | None,
        ok_status: Sequence[int],
    ) -> httpx.Response:
        attempt = _Attempt(priority=Priority(priority))
        request = self._http.build_request(
            method, path, params=params, json=json, files=files, extensions={ATTEMPT_EXTENSION: attempt}
        )
        async with self._semaphore:
            try:
                response = await self._http.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                # Nothing reached the server, so the quota was not charged for this attempt.
                if attempt.awaiting and self.budget is not None:
                    self.budget.refund()
                raise
        if response.is_success or response.status_code in ok_status:
            return response
        raise error_for_response(response, wait_max=self.retry_policy.wait_max)

    async def request(
        self,
        method: str,
        path: str,
        *,
        priority: Priority,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        ok_status: Sequence[int] = (),
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with retries; raises `ICIMSError` subclasses. `ok_status` lists non-2xx statuses to
        return instead of raising (404 for optional files). `idempotent=False` (creates) limits
        retries to failures the server provably did not act on (see `tools.icims.retry`)."""
        retrying = self.retry_policy.retrying(idempotent=idempotent, sleep=self._sleep)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(
                        method,
                        path,
                        priority=priority,
                        params=params,
                        json=json,
                        files=files,
                        ok_status=ok_status,
                    )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if self.retry_policy.is_retryable(exc, idempotent=idempotent):
                detail = f"{type(exc).__name__}: {exc or 'no detail'} after {attempts} attempt(s)"
            else:
                detail = (
                    f"{type(exc).__name__}: {exc or 'no detail'}; not retried because the request "
                    "may already have been applied"
                )
            raise ICIMSUnavailable(None, message=detail, method=method, path=path) from exc
        raise AssertionError("unreachable: tenacity returns or reraises")

    async def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ICIMSError(
                response.status_code,
                message=(
                    f"expected JSON, got {response.headers.get('content-type')!r}: {response.text[:200]!r}"
                ),
                method=response.request.method,
                path=response.request.url.path,
            ) from exc

    # --- customer and profiles -----------------------------------------------------------------

    async def get_customer(self, *, priority: Priority = Priority.REALTIME) -> dict[str, Any]:
        response = await self.request("GET", self._path(), priority=priority)
        return await self._json(response)

    async def get_profile(
        self,
        kind: str,
        profile_id: int,
        *,
        fields: Sequence[str] | None = None,
        priority: Priority = Priority.REALTIME,
    ) -> dict[str, Any]:
        """`GET /customers/{cid}/{kind}/{id}?fields=a,b` -> the profile JSON as served (with `links`)."""
        path = self._path(kind, int(profile_id))
        if fields:
            # Literal commas, as every known iCIMS client sends them (httpx would encode them as %2C).
            path += "?fields=" + ",".join(_segment(f, "field id") for f in fields)
        response = await self.request("GET", path, priority=priority)
        return await self._json(response)

    async def get_field(
        self, kind: str, profile_id: int, field_id: str, *, priority: Priority = Priority.REALTIME
    ) -> Any:
        response = await self.request(
            "GET", self._path(kind, int(profile_id), "fields", field_id), priority=priority
        )
        return await self._json(response)

    async def create_profile(
        self, kind: str, data: Mapping[str, Any], *, priority: Priority = Priority.WRITE
    ) -> int:
        """`POST /customers/{cid}/{kind}` -> 201 + `Location` -> the new id."""
        response = await self.request(
            "POST", self._path(kind), json=dict(data), priority=priority, idempotent=False
        )
        return _id_from_location(response)

    async def update_profile(
        self, kind: str, profile_id: int, changes: Mapping[str, Any], *, priority: Priority = Priority.WRITE
    ) -> None:
        """`PATCH` (204). `None` or `""` clears a field."""
        await self.request("PATCH", self._path(kind, int(profile_id)), json=dict(changes), priority=priority)

    async def get_person(
        self, person_id: int, *, fields: Sequence[str] | None = None, priority: Priority = Priority.REALTIME
    ) -> Person:
        return Person.model_validate(
            await self.get_profile("people", person_id, fields=fields, priority=priority)
        )

    async def get_job(
        self, job_id: int, *, fields: Sequence[str] | None = None, priority: Priority = Priority.REALTIME
    ) -> Job:
        return Job.model_validate(await self.get_profile("jobs", job_id, fields=fields, priority=priority))

    # --- workflows -----------------------------------------------------------------------------

    async def get_workflow(
        self, kind: str, workflow_id: int, *, priority: Priority = Priority.REALTIME
    ) -> dict[str, Any]:
        if kind not in WORKFLOW_KINDS:
            raise ValueError(f"not a workflow kind: {kind!r}")
        response = await self.request("GET", self._path(kind, int(workflow_id)), priority=priority)
        return await self._json(response)

    async def get_applicant_workflow(
        self, workflow_id: int, *, priority: Priority = Priority.REALTIME
    ) -> ApplicantWorkflow:
        data = await self.get_workflow("applicantworkflows", workflow_id, priority=priority)
        return ApplicantWorkflow.model_validate(data)

    async def get_source_workflow(
        self, workflow_id: int, *, priority: Priority = Priority.REALTIME
    ) -> SourceWorkflow:
        return SourceWorkflow.model_validate(
            await self.get_workflow("sourceworkflows", workflow_id, priority=priority)
        )

    async def create_workflow(
        self,
        kind: str,
        *,
        baseprofile: int,
        associatedprofile: int,
        status: str | None = None,
        source: str | None = None,
        sourcename: str | None = None,
        extra: Mapping[str, Any] | None = None,
        priority: Priority = Priority.WRITE,
    ) -> int:
        """`POST /customers/{cid}/{kind}` with bare int profile ids (API_NOTES 3.2) -> the workflow id."""
        if kind not in WORKFLOW_KINDS:
            raise ValueError(f"not a workflow kind: {kind!r}")
        body: dict[str, Any] = {"baseprofile": int(baseprofile), "associatedprofile": int(associatedprofile)}
        if status is not None:
            body["status"] = {"id": status}
        if source is not None:
            body["source"] = source
        if sourcename is not None:
            body["sourcename"] = sourcename
        body.update(extra or {})
        response = await self.request(
            "POST", self._path(kind), json=body, priority=priority, idempotent=False
        )
        return _id_from_location(response)

    async def create_applicant_workflow(
        self,
        job_id: int,
        person_id: int,
        *,
        status: str = APPLICANT_NEW_SUBMISSION,
        source: str | None = None,
        sourcename: str | None = None,
        extra: Mapping[str, Any] | None = None,
        priority: Priority = Priority.WRITE,
    ) -> int:
        """Person applies to (is submitted to) a job."""
        return await self.create_workflow(
            "applicantworkflows",
            baseprofile=job_id,
            associatedprofile=person_id,
            status=status,
            source=source,
            sourcename=sourcename,
            extra=extra,
            priority=priority,
        )

    async def create_source_workflow(
        self,
        talentpool_id: int,
        person_id: int,
        *,
        status: str = SOURCE_WORKFLOW_NEEDS_REVIEW,
        source: str | None = None,
        sourceorigin: str | None = SOURCE_ORIGIN_WEB_SERVICES,
        extra: Mapping[str, Any] | None = None,
        priority: Priority = Priority.WRITE,
    ) -> int:
        """Person joins a talent pool (`sourceorigin` defaults to "Web Services")."""
        more = dict(extra or {})
        if sourceorigin is not None:
            more.setdefault("sourceorigin", {"id": sourceorigin})
        return await self.create_workflow(
            "sourceworkflows",
            baseprofile=talentpool_id,
            associatedprofile=person_id,
            status=status,
            source=source,
            extra=more,
            priority=priority,
        )

    async def update_workflow(
        self, kind: str, workflow_id: int, changes: Mapping[str, Any], *, priority: Priority = Priority.WRITE
    ) -> None:
        if kind not in WORKFLOW_KINDS:
            raise ValueError(f"not a workflow kind: {kind!r}")
        await self.request("PATCH", self._path(kind, int(workflow_id)), json=dict(changes), priority=priority)

    async def set_workflow_status(
        self, kind: str, workflow_id: int, status_id: str, *, priority: Priority = Priority.WRITE
    ) -> None:
        await self.update_workflow(kind, workflow_id, {"status": {"id": status_id}}, priority=priority)

    async def write_assessment_results(
        self,
        workflow_id: int,
        results: Sequence[AssessmentResult | Mapping[str, Any]],
        *,
        priority: Priority = Priority.WRITE,
    ) -> None:
        """PATCH `assessmentresults` on an applicant workflow.

        Not retried after an unknown outcome: whether iCIMS appends or replaces entries is not
        documented, and an appended duplicate could not be taken back."""
        body = [r.to_icims() if isinstance(r, AssessmentResult) else dict(r) for r in results]
        await self.request(
            "PATCH",
            self._path("applicantworkflows", int(workflow_id)),
            json={"assessmentresults": body},
            priority=priority,
            idempotent=False,
        )

    # --- search --------------------------------------------------------------------------------

    async def search(
        self,
        kind: str,
        query: SearchQuery,
        *,
        staleness: int | None = None,
        priority: Priority = Priority.REALTIME,
    ) -> list[int]:
        """One Search API page: up to 1,000 ids, ascending (API_NOTES 3.3)."""
        if kind not in ENTITY:
            raise ValueError(f"no search endpoint for {kind!r}; expected one of {sorted(ENTITY)}")
        params = {"staleness": str(int(staleness))} if staleness is not None else None
        response = await self.request(
            "POST", self._path("search", kind), json=query.model_dump(), params=params, priority=priority
        )
        body = await self._json(response)
        rows = body.get("searchResults") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return []  # the docs show an error-shaped body for "no results"
        ids: list[int] = []
        for row in rows:
            raw = row.get("id") if isinstance(row, dict) else None
            if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
                ids.append(int(raw))
        return ids

    async def search_ids(
        self,
        kind: str,
        query: SearchQuery,
        *,
        after_id: int = 0,
        staleness: int | None = None,
        priority: Priority = Priority.REALTIME,
    ) -> AsyncGenerator[list[int], None]:
        """Every id matching `query` above `after_id`, one non-empty page at a time.

        Each request is `query` AND `<entity>.id > <last id seen>`; a page shorter than 1,000 rows
        is the last. Resume an interrupted listing by passing the last id processed as `after_id`.
        """
        entity = ENTITY.get(kind)
        if entity is None:
            raise ValueError(f"no search endpoint for {kind!r}; expected one of {sorted(ENTITY)}")
        last = int(after_id)
        while True:
            rows = await self.search(
                kind, with_id_after(query, entity, last), staleness=staleness, priority=priority
            )
            # Filtering again guards against a server that ignored the id filter (endless loop).
            page = [i for i in rows if i > last]
            if page:
                yield page
                last = max(page)
            if len(rows) < PAGE_SIZE or not page:
                return

    # --- files ---------------------------------------------------------------------------------

    async def get_binary(
        self, kind: str, profile_id: int, field_id: str, *, priority: Priority = Priority.REALTIME
    ) -> BinaryFile | None:
        """`GET .../fields/{field}/binary` -> the file, or None when there is none (a JSON 404;
        iCIMS answers a JSON error document instead of a file)."""
        response = await self.request(
            "GET",
            self._path(kind, int(profile_id), "fields", field_id, "binary"),
            priority=priority,
            ok_status=(404,),
        )
        content_type = response.headers.get("content-type", "application/octet-stream")
        if response.status_code == 404 or content_type.split(";", 1)[0].strip().lower() == "application/json":
            return None
        return BinaryFile(content=response.content, content_type=content_type, filename=_filename(response))

    async def get_resume(
        self, person_id: int, *, priority: Priority = Priority.REALTIME
    ) -> BinaryFile | None:
        return await self.get_binary("people", person_id, "resume", priority=priority)

    async def get_text(
        self, kind: str, profile_id: int, field_id: str, *, priority: Priority = Priority.REALTIME
    ) -> str | None:
        """`GET .../fields/{field}/text`: the file's extracted text, None on 404 (no file or no text)."""
        response = await self.request(
            "GET",
            self._path(kind, int(profile_id), "fields", field_id, "text"),
            priority=priority,
            ok_status=(404,),
        )
        if response.status_code == 404:
            return None
        return _text_from_response(response)

    async def get_resume_text(self, person_id: int, *, priority: Priority = Priority.REALTIME) -> str | None:
        return await self.get_text("people", person_id, "resume", priority=priority)

    async def upload_binary(
        self,
        kind: str,
        profile_id: int,
        field_id: str,
        file: BinaryFile,
        *,
        priority: Priority = Priority.WRITE,
    ) -> None:
        """`PATCH .../fields/{field}/binary` as multipart/form-data (204). Replacing a file is idempotent."""
        files = {"file": (file.filename or field_id, file.content, file.content_type)}
        await self.request(
            "PATCH",
            self._path(kind, int(profile_id), "fields", field_id, "binary"),
            files=files,
            priority=priority,
        )

    # --- collection fields (API_NOTES 3.5) ------------------------------------------------------

    async def create_collection_entry(
        self,
        kind: str,
        profile_id: int,
        collection: str,
        entry: Mapping[str, Any],
        *,
        priority: Priority = Priority.WRITE,
    ) -> int:
        """`POST .../fields/{collection}` -> the new entry id. Retried like any request: iCIMS
        answers success without change when the entry already exists (D-coll), so a resend cannot
        duplicate it."""
        response = await self.request(
            "POST",
            self._path(kind, int(profile_id), "fields", collection),
            json=dict(entry),
            priority=priority,
        )
        return _id_from_location(response)

    async def get_collection_entry(
        self,
        kind: str,
        profile_id: int,
        collection: str,
        entry_id: int,
        *,
        priority: Priority = Priority.REALTIME,
    ) -> dict[str, Any]:
        response = await self.request(
            "GET", self._path(kind, int(profile_id), "fields", collection, int(entry_id)), priority=priority
        )
        return await self._json(response)

    async def update_collection_entry(
        self,
        kind: str,
        profile_id: int,
        collection: str,
        entry_id: int,
        changes: Mapping[str, Any],
        *,
        priority: Priority = Priority.WRITE,
    ) -> None:
        await self.request(
            "PATCH",
            self._path(kind, int(profile_id), "fields", collection, int(entry_id)),
            json=dict(changes),
            priority=priority,
        )

    async def delete_collection_entry(
        self,
        kind: str,
        profile_id: int,
        collection: str,
        entry_id: int,
        *,
        priority: Priority = Priority.WRITE,
    ) -> None:
        await self.request(
            "DELETE",
            self._path(kind, int(profile_id), "fields", collection, int(entry_id)),
            priority=priority,
        )

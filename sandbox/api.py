"""The customer API: customer, profiles, workflows, fields, collections, binaries, search.

Authentication, quota, faults and the common headers happen in the app's middleware before these
handlers run, so a handler only sees authorised requests for its own customer. Every handler checks
its input fully before changing anything: a rejected request leaves the tenant untouched.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from sandbox.errors import FIELD_REQUIRED, ICIMSError, bad_request, not_found
from sandbox.files import extract_text, text_filename, text_multipart
from sandbox.search import ENTITY, run_search
from sandbox.serialize import (
    ALL_KINDS,
    DEFAULT_SOURCE_ORIGIN,
    DEFAULT_STATUS,
    KIND_LABEL,
    WORKFLOW_BASE,
    WORKFLOW_KINDS,
    int_or_none,
    profile_url,
)
from sandbox.state import SandboxState
from sandbox.store import Binary, Record
from sandbox.webhooks import build_payload

router = APIRouter()

# Served but never written by clients: timestamps are the server's, links are computed.
READ_ONLY_FIELDS = frozenset({"links", "createddate", "updateddate", "id"})
NODE_KEYS = frozenset({"id", "value", "formattedvalue"})
ENTRY_COUNTER = "entries"  # the `Tenant.next_id` key seeding uses for collection entries


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _kind(kind: str, allowed: tuple[str, ...] = ALL_KINDS) -> str:
    if kind not in allowed:
        raise not_found(f"Profile type {kind} not found.")
    return kind


def _record(state: SandboxState, kind: str, record_id: str) -> tuple[int, Record]:
    rid = int_or_none(record_id)
    record = state.tenant.get(kind, rid) if rid is not None else None
    if rid is None or record is None:
        raise not_found(f"{KIND_LABEL[kind]} not found.")
    return rid, record


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _is_node(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= NODE_KEYS


def _check_required(state: SandboxState, kind: str, data: dict[str, Any]) -> None:
    """Required fields must hold a value on the resulting record, even if this write did not touch
    them (the F-patch behaviour)."""
    for field_id in state.config.required_fields.get(kind, []):
        if _empty(data.get(field_id)):
            raise ICIMSError(400, FIELD_REQUIRED, f"The field {field_id} is required.")


def _new_entry(state: SandboxState) -> int:
    # One tenant-wide counter (shared with seeding) keeps entry numbers unique, as iCIMS's are.
    return state.tenant.allocate_id(ENTRY_COUNTER)


def _assign_entries(state: SandboxState, changes: dict[str, Any]) -> dict[str, Any]:
    """Give collection rows without an `entry` a new number (multi-select lists excepted)."""
    out = dict(changes)
    for key, value in changes.items():
        if not isinstance(value, list) or not value or not all(isinstance(i, dict) for i in value):
            continue
        if all(_is_node(item) for item in value):
            continue
        out[key] = [
            item if int_or_none(item.get("entry")) is not None else {"entry": _new_entry(state), **item}
            for item in value
        ]
    return out


def _clean_changes(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}
    # File fields change only through `.../fields/{id}/binary`; a `{"file": url}` echo is ignored.
    changes = {k: v for k, v in changes.items() if not (isinstance(v, dict) and "file" in v)}
    return _assign_entries(state, state.serializer.resolve_nodes(changes))


def _merged(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """What `Tenant.patch` will store (same clearing rule), to validate before writing."""
    merged = dict(data)
    for key, value in changes.items():
        if value is None or value == "" or value == []:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _created(location: str) -> Response:
    # iCIMS answers a create with 201, the new URL and an empty octet-stream body.
    return Response(status_code=201, headers={"Location": location}, media_type="application/octet-stream")


# --- customer ---------------------------------------------------------------------------------


@router.get("/customers/{cid}")
async def get_customer(cid: int, request: Request) -> Response:
    base = _base(request)
    links = ", ".join(
        f'<{base}/customers/{cid}/{kind}>; rel="profiles"; title="{kind}"' for kind in ALL_KINDS
    )
    body = {
        "platformUrl": f"{base}/customers/{cid}",
        "id": cid,
        "customerType": "test",
        "name": f"Sandbox Customer {cid}",
        "buildVersion": "sandbox",
    }
    return JSONResponse(body, headers={"X-Customer-Type": "test", "Link": links})


# --- search -----------------------------------------------------------------------------------


@router.post("/customers/{cid}/search/{kind}")
@router.get("/customers/{cid}/search/{kind}")
async def search(cid: int, kind: str, request: Request) -> Response:
    state = _state(request)
    if kind not in ENTITY:
        raise not_found(f"Search type {kind} not found.")
    staleness = request.query_params.get("staleness")
    if staleness is not None and not staleness.strip().isdigit():
        raise bad_request(f"staleness must be a non-negative number of minutes: {staleness}")
    if request.method == "GET":
        raw = request.query_params.get("searchJson")
        if raw is None:
            raise bad_request("At least one filter must be specified")
        try:
            query = json.loads(raw)
        except json.JSONDecodeError:
            raise bad_request("An unknown parsing error occurred") from None
    else:
        query = await _json_object(request)
    ids = run_search(state.tenant, kind, query)
    base = _base(request)
    results = [{"id": rid, "self": profile_url(base, cid, kind, rid)} for rid in ids]
    return JSONResponse({"searchResults": results})


# --- binaries and extracted text ----------------------------------------------------------------


@router.get("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/binary")
async def get_binary(cid: int, kind: str, record_id: str, field_id: str, request: Request) -> Response:
    state = _state(request)
    rid, _ = _record(state, _kind(kind), record_id)
    binary = state.tenant.get_binary(kind, rid, field_id)
    if binary is None:
        raise not_found(f"No file found for field {field_id}.")
    # The stored Content-Type verbatim (`media_type` would append a charset to text types).
    disposition = f'attachment; filename="{binary.filename}"'
    headers = {"Content-Type": binary.content_type, "Content-Disposition": disposition}
    return Response(binary.content, headers=headers)


@router.patch("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/binary")
async def patch_binary(cid: int, kind: str, record_id: str, field_id: str, request: Request) -> Response:
    state = _state(request)
    rid, _ = _record(state, _kind(kind), record_id)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise bad_request("A binary field is updated with a multipart/form-data request.")
    form = await request.form()
    uploads = [(name, value) for name, value in form.multi_items() if isinstance(value, UploadFile)]
    if not uploads:
        raise bad_request("The multipart request holds no file part.")
    name, upload = uploads[0]
    content = await upload.read()
    binary = Binary(
        content=content,
        content_type=upload.content_type or "application/octet-stream",
        filename=upload.filename or field_id,
    )
    text = extract_text(binary)
    tenant = state.tenant
    with tenant.lock:
        tenant.binaries[(kind, rid, field_id)] = binary
        if text:
            tenant.texts[(kind, rid, field_id)] = text
        else:
            tenant.texts.pop((kind, rid, field_id), None)
        tenant.touch(kind, rid)
    parts = [
        {"name": name, "filename": binary.filename, "content_type": binary.content_type, "size": len(content)}
    ]
    state.log_write("PATCH", request.url.path, {"multipart": parts})
    return Response(status_code=204)


@router.delete("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/binary")
async def delete_binary(cid: int, kind: str, record_id: str, field_id: str, request: Request) -> Response:
    state = _state(request)
    rid, _ = _record(state, _kind(kind), record_id)
    if kind == "people" and field_id == "resume":
        raise bad_request("The resume field cannot be deleted.")
    tenant = state.tenant
    with tenant.lock:
        if (kind, rid, field_id) not in tenant.binaries:
            raise not_found(f"No file found for field {field_id}.")
        del tenant.binaries[(kind, rid, field_id)]
        tenant.texts.pop((kind, rid, field_id), None)
        tenant.touch(kind, rid)
    state.log_write("DELETE", request.url.path, None)
    return Response(status_code=204)


@router.get("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/text")
async def get_text(cid: int, kind: str, record_id: str, field_id: str, request: Request) -> Response:
    state = _state(request)
    rid, _ = _record(state, _kind(kind), record_id)
    text = state.tenant.get_text(kind, rid, field_id)
    if not text:
        raise not_found(f"No text found for field {field_id}.")
    # Name the part after the document only if it is already rendered: rendering a lazily seeded
    # PDF just for its file name would make every text fetch pay for the binary too.
    stored = state.tenant.binaries.get((kind, rid, field_id))
    binary = stored if isinstance(stored, Binary) else None
    body, content_type = text_multipart(text, text_filename(binary, field_id))
    return Response(body, headers={"Content-Type": content_type})


# --- single fields and collections ----------------------------------------------------------------


def _collection(record: Record, field_id: str) -> list[dict[str, Any]]:
    value = record.data.get(field_id)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise bad_request(f"The field {field_id} is not a collection.")
    return value


def _entry_key(entry: dict[str, Any]) -> str:
    """Content of a collection row for duplicate detection (row number and primary flag aside)."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("id") is not None and set(value) <= NODE_KEYS | {"abbrev"}:
                return str(value["id"])
            if "value" in value and set(value) <= NODE_KEYS | {"abbrev"}:
                return str(value["value"]).lower()
            return {k: norm(v) for k, v in sorted(value.items())}
        if isinstance(value, str):
            return value.strip().lower()
        return value

    return json.dumps({k: norm(v) for k, v in entry.items() if k not in ("entry", "primary")}, sort_keys=True)


@router.get("/customers/{cid}/{kind}/{record_id}/fields/{field_id}")
async def get_field(cid: int, kind: str, record_id: str, field_id: str, request: Request) -> Response:
    state = _state(request)
    rid, record = _record(state, _kind(kind), record_id)
    value = state.serializer.full(kind, rid, record, _base(request)).get(field_id)
    return JSONResponse({} if _empty(value) else {field_id: value})


@router.post("/customers/{cid}/{kind}/{record_id}/fields/{field_id}")
async def add_entry(cid: int, kind: str, record_id: str, field_id: str, request: Request) -> Response:
    state = _state(request)
    rid, record = _record(state, _kind(kind), record_id)
    body = await _json_object(request)
    if not body:
        raise bad_request("A collection entry needs at least one field.")
    row = state.serializer.resolve_nodes({k: v for k, v in body.items() if k not in ("entry", "links")})
    row = {k: v for k, v in row.items() if not _empty(v)}
    location = f"{profile_url(_base(request), cid, kind, rid)}/fields/{field_id}"
    with state.tenant.lock:
        rows = _collection(record, field_id)
        key = _entry_key(row)
        for existing in rows:
            if _entry_key(existing) == key:
                # Duplicates succeed without changing anything (API_NOTES 3.5).
                state.log_write("POST", request.url.path, body)
                return _created(f"{location}/{existing.get('entry')}")
        entry = _new_entry(state)
        new_rows = [*rows, {"entry": entry, **row}]
        _check_required(state, kind, _merged(record.data, {field_id: new_rows}))
        state.tenant.patch(kind, rid, {field_id: new_rows})
    state.log_write("POST", request.url.path, body)
    return _created(f"{location}/{entry}")


def _find_entry(rows: list[dict[str, Any]], entry: str, field_id: str) -> int:
    wanted = int_or_none(entry)
    for index, row in enumerate(rows):
        if wanted is not None and int_or_none(row.get("entry")) == wanted:
            return index
    raise not_found(f"Entry {entry} of field {field_id} not found.")


@router.get("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/{entry}")
async def get_entry(
    cid: int, kind: str, record_id: str, field_id: str, entry: str, request: Request
) -> Response:
    state = _state(request)
    _, record = _record(state, _kind(kind), record_id)
    rows = _collection(record, field_id)
    return JSONResponse(rows[_find_entry(rows, entry, field_id)])


@router.patch("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/{entry}")
async def patch_entry(
    cid: int, kind: str, record_id: str, field_id: str, entry: str, request: Request
) -> Response:
    state = _state(request)
    rid, record = _record(state, _kind(kind), record_id)
    body = await _json_object(request)
    changes = state.serializer.resolve_nodes({k: v for k, v in body.items() if k not in ("entry", "links")})
    with state.tenant.lock:
        rows = _collection(record, field_id)
        index = _find_entry(rows, entry, field_id)
        updated = _merged(rows[index], changes)
        others = [r for i, r in enumerate(rows) if i != index]
        duplicate = any(_entry_key(r) == _entry_key(updated) for r in others)
        if not duplicate and updated != rows[index]:
            new_rows = [updated if i == index else r for i, r in enumerate(rows)]
            _check_required(state, kind, _merged(record.data, {field_id: new_rows}))
            state.tenant.patch(kind, rid, {field_id: new_rows})
    state.log_write("PATCH", request.url.path, body)
    return Response(status_code=204)


@router.delete("/customers/{cid}/{kind}/{record_id}/fields/{field_id}/{entry}")
async def delete_entry(
    cid: int, kind: str, record_id: str, field_id: str, entry: str, request: Request
) -> Response:
    state = _state(request)
    rid, record = _record(state, _kind(kind), record_id)
    with state.tenant.lock:
        rows = _collection(record, field_id)
        index = _find_entry(rows, entry, field_id)
        new_rows = [r for i, r in enumerate(rows) if i != index]
        _check_required(state, kind, _merged(record.data, {field_id: new_rows}))
        state.tenant.patch(kind, rid, {field_id: new_rows})
    state.log_write("DELETE", request.url.path, None)
    return Response(status_code=204)


# --- profiles and workflows ---------------------------------------------------------------------


@router.get("/customers/{cid}/{kind}/{record_id}")
async def get_profile(cid: int, kind: str, record_id: str, request: Request) -> Response:
    state = _state(request)
    rid, record = _record(state, _kind(kind), record_id)
    raw_fields = request.query_params.get("fields")
    fields = [f.strip() for f in raw_fields.split(",") if f.strip()] if raw_fields else None
    return JSONResponse(state.serializer.profile(kind, rid, record, _base(request), fields))


def _workflow_links(state: SandboxState, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate `baseprofile`/`associatedprofile` (bare ints) and that both profiles exist."""
    out = dict(data)
    for key, target in (("baseprofile", WORKFLOW_BASE[kind]), ("associatedprofile", "people")):
        if key not in data:
            continue
        linked = int_or_none(data[key])
        if linked is None:
            raise bad_request(f"The field {key} must be a profile id.")
        if state.tenant.get(target, linked) is None:
            raise not_found(f"{KIND_LABEL[target]} not found.")
        out[key] = linked
    return out


def _existing_workflow(state: SandboxState, kind: str, base_id: int, person_id: int) -> int | None:
    for wid, record in state.tenant.records[kind].items():
        data = record.data
        if (
            int_or_none(data.get("baseprofile")) == base_id
            and int_or_none(data.get("associatedprofile")) == person_id
        ):
            return wid
    return None


@router.post("/customers/{cid}/{kind}")
async def create_profile(cid: int, kind: str, request: Request) -> Response:
    state = _state(request)
    _kind(kind)
    body = await _json_object(request)
    data = _clean_changes(state, body)
    if kind in WORKFLOW_KINDS:
        for key in ("baseprofile", "associatedprofile"):
            if key not in data:
                raise ICIMSError(400, FIELD_REQUIRED, f"The field {key} is required.")
        data = _workflow_links(state, kind, data)
        data.setdefault(
            "status", state.serializer.resolve_nodes({"status": {"id": DEFAULT_STATUS[kind]}})["status"]
        )
        if kind == "sourceworkflows":
            origin = {"id": DEFAULT_SOURCE_ORIGIN}
            data.setdefault(
                "sourceorigin", state.serializer.resolve_nodes({"sourceorigin": origin})["sourceorigin"]
            )
    data = {k: v for k, v in data.items() if not _empty(v)}
    _check_required(state, kind, data)
    with state.tenant.lock:
        if kind in WORKFLOW_KINDS:
            # One workflow per person and job (or talent pool) (API_NOTES 3.2).
            existing = _existing_workflow(state, kind, data["baseprofile"], data["associatedprofile"])
            if existing is not None:
                raise bad_request(
                    f"Person {data['associatedprofile']} already has workflow {existing} on "
                    f"{KIND_LABEL[WORKFLOW_BASE[kind]].lower()} {data['baseprofile']}."
                )
        rid = state.tenant.add(kind, data)
    state.log_write("POST", request.url.path, body)
    return _created(profile_url(_base(request), cid, kind, rid))


@router.patch("/customers/{cid}/{kind}/{record_id}")
async def patch_profile(cid: int, kind: str, record_id: str, request: Request) -> Response:
    state = _state(request)
    rid, record = _record(state, _kind(kind), record_id)
    body = await _json_object(request)
    changes = _clean_changes(state, body)
    if kind in WORKFLOW_KINDS:
        changes = _workflow_links(state, kind, changes)
    old_status = (record.data.get("status") or {}).get("id")
    with state.tenant.lock:
        merged = _merged(record.data, changes)
        _check_required(state, kind, merged)
        # A PATCH that changes nothing leaves updateddate alone (incremental syncs key on it).
        if merged != record.data:
            state.tenant.patch(kind, rid, changes)
    new_status = (record.data.get("status") or {}).get("id")
    base = _base(request)
    if kind == "applicantworkflows" and new_status != old_status:
        _status_event(state, base, rid, record, old_status, new_status)
    state.log_write("PATCH", request.url.path, body)
    return Response(status_code=204, headers={"Location": profile_url(base, cid, kind, rid)})


def _status_event(
    state: SandboxState, base: str, workflow_id: int, record: Record, old: str | None, new: str | None
) -> None:
    job_id = int_or_none(record.data.get("baseprofile"))
    job = state.tenant.get("jobs", job_id) if job_id is not None else None
    # The "user" of a status change: the job's recruiter stands in for the person who moved it.
    user_id = int_or_none(job.data.get("recruiter")) if job is not None else None
    payload = build_payload(
        event_type="WorkFlowStatusChangeEvent",
        customer_id=state.config.customer_id,
        base=base,
        system_id=workflow_id,
        user_id=user_id,
        person_id=int_or_none(record.data.get("associatedprofile")),
        job_id=job_id,
        old_status=old,
        new_status=new,
    )
    state.webhooks.send(state.webhooks.record(payload))

"""Stored records -> the JSON iCIMS serves, and request bodies -> stored values.

Served profiles add `links`, the record timestamps and file-field links; workflows expand their bare
`baseprofile`/`associatedprofile` ids into link objects. URLs use the base the request came in on,
so links are right whichever port the sandbox listens on.
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.store import Record, Tenant
from tools.icims import codes
from tools.icims.formats import format_datetime

PROFILE_KINDS = ("people", "jobs", "companies", "talentpools")
WORKFLOW_KINDS = ("applicantworkflows", "sourceworkflows")
ALL_KINDS = PROFILE_KINDS + WORKFLOW_KINDS

# Display names used in "X not found." messages.
KIND_LABEL = {
    "people": "Person",
    "jobs": "Job",
    "companies": "Company",
    "talentpools": "Talent pool",
    "applicantworkflows": "Applicant workflow",
    "sourceworkflows": "Source workflow",
}

# Workflow kind -> the profile kind of its baseprofile (associatedprofile is always a person).
WORKFLOW_BASE = {"applicantworkflows": "jobs", "sourceworkflows": "talentpools"}

# List nodes from tools/icims/codes.py; a seeded tenant's `list_nodes` extends or overrides them.
DEFAULT_LIST_NODES: dict[str, str] = dict(codes.LABELS)
# Fields whose list nodes the sandbox knows completely, so an unknown id there is a client error.
STRICT_NODE_FIELDS = frozenset({"status", "folder"})
DEFAULT_STATUS = {
    "applicantworkflows": codes.APPLICANT_NEW_SUBMISSION,
    "sourceworkflows": codes.SOURCE_WORKFLOW_NEEDS_REVIEW,
}
DEFAULT_SOURCE_ORIGIN = codes.SOURCE_ORIGIN_WEB_SERVICES

SELF_TITLE = "The current profile being viewed."
BASE_TITLE = "The base profile of this workflow."
ASSOCIATED_TITLE = "The associated profile of this workflow."


def profile_url(base: str, customer_id: int, kind: str, record_id: int) -> str:
    return f"{base}/customers/{customer_id}/{kind}/{record_id}"


def node(node_id: str, value: str) -> dict[str, str]:
    return {"id": node_id, "value": value, "formattedvalue": value}


def display_name(tenant: Tenant, kind: str, record_id: int) -> str:
    record = tenant.get(kind, record_id)
    if record is None:
        return ""
    data = record.data
    if kind == "people":
        return " ".join(part for part in (data.get("firstname"), data.get("lastname")) if part)
    if kind == "jobs":
        return str(data.get("jobtitle", ""))
    if kind == "talentpools":
        return str(data.get("title", ""))
    return str(data.get("name", ""))


def rebase(url: str, base: str) -> str:
    """Point a stored API URL at this server (seeded data does not know the port)."""
    index = url.find("/customers/")
    return base + url[index:] if index >= 0 else url


def _rebase_links(value: Any, base: str) -> Any:
    if isinstance(value, dict):
        out = dict(value)
        for key in ("profile", "address", "file"):
            if isinstance(out.get(key), str):
                out[key] = rebase(out[key], base)
        return out
    if isinstance(value, list):
        return [_rebase_links(item, base) for item in value]
    return value


class Serializer:
    def __init__(self, tenant: Tenant, customer_id: int):
        self.tenant = tenant
        self.customer_id = customer_id
        self._binary_fields: dict[str, set[str]] = {}
        self._binary_count = -1

    def binary_field_ids(self, kind: str) -> set[str]:
        """Field ids that hold files for some record of `kind` (cached until the file count changes)."""
        if len(self.tenant.binaries) != self._binary_count:
            fields: dict[str, set[str]] = {}
            for kind_, _, field_id in list(self.tenant.binaries):
                fields.setdefault(kind_, set()).add(field_id)
            self._binary_fields = fields
            self._binary_count = len(self.tenant.binaries)
        return self._binary_fields.get(kind, set())

    def full(self, kind: str, record_id: int, record: Record, base: str) -> dict[str, Any]:
        """Everything a full GET shows, minus `links`."""
        data: dict[str, Any] = {key: _rebase_links(value, base) for key, value in record.data.items()}
        if kind in WORKFLOW_KINDS:
            self._expand_workflow(kind, data, base)
        data["createddate"] = format_datetime(record.created)
        data["updateddate"] = format_datetime(record.updated)
        for field_id in self.binary_field_ids(kind):
            if (kind, record_id, field_id) in self.tenant.binaries:
                url = f"{profile_url(base, self.customer_id, kind, record_id)}/fields/{field_id}/binary"
                data[field_id] = {"file": url}
        return data

    def profile(
        self, kind: str, record_id: int, record: Record, base: str, fields: list[str] | None
    ) -> dict[str, Any]:
        data = self.full(kind, record_id, record, base)
        if fields is not None:
            data = {key: data[key] for key in fields if key in data}
        data = {key: value for key, value in data.items() if not _empty(value)}
        data["links"] = self.links(kind, record_id, record, base)
        return data

    def links(self, kind: str, record_id: int, record: Record, base: str) -> list[dict[str, str]]:
        links = [
            {"rel": "self", "title": SELF_TITLE, "url": profile_url(base, self.customer_id, kind, record_id)}
        ]
        if kind in WORKFLOW_KINDS:
            base_id = int_or_none(record.data.get("baseprofile"))
            person_id = int_or_none(record.data.get("associatedprofile"))
            if base_id is not None:
                url = profile_url(base, self.customer_id, WORKFLOW_BASE[kind], base_id)
                links.append({"rel": "self", "title": BASE_TITLE, "url": url})
            if person_id is not None:
                url = profile_url(base, self.customer_id, "people", person_id)
                links.append({"rel": "self", "title": ASSOCIATED_TITLE, "url": url})
        return links

    def _expand_workflow(self, kind: str, data: dict[str, Any], base: str) -> None:
        for key, target in (("baseprofile", WORKFLOW_BASE[kind]), ("associatedprofile", "people")):
            linked = int_or_none(data.get(key))
            if linked is None:
                continue
            link: dict[str, Any] = {
                "profile": profile_url(base, self.customer_id, target, linked),
                "id": linked,
            }
            name = display_name(self.tenant, target, linked)
            if name:
                link["value"] = name
            data[key] = link

    # --- request bodies -> stored values ---------------------------------------------------------

    def list_nodes(self) -> dict[str, str]:
        return {**DEFAULT_LIST_NODES, **self.tenant.list_nodes}

    def resolve_nodes(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Fill list nodes given as `{"id"}` or `{"value"}` (API_NOTES 4), top level and in collections."""
        nodes = self.list_nodes()
        # A display value shared by several nodes (phone "Home" vs address "Home") stays unresolved.
        by_value: dict[str, str] = {}
        shared: set[str] = set()
        for node_id, value in nodes.items():
            key = value.lower()
            if key in by_value:
                shared.add(key)
            by_value[key] = node_id
        for key in shared:
            del by_value[key]
        out: dict[str, Any] = {}
        for key, value in changes.items():
            if isinstance(value, list):
                out[key] = [
                    {k: _resolve(k, v, nodes, by_value) for k, v in item.items()}
                    if isinstance(item, dict)
                    else item
                    for item in value
                ]
            else:
                out[key] = _resolve(key, value, nodes, by_value)
        return out


def _resolve(key: str, value: Any, nodes: dict[str, str], by_value: dict[str, str]) -> Any:
    if not isinstance(value, dict) or not value or not set(value) <= {"id", "value", "formattedvalue"}:
        return value
    node_id = value.get("id")
    if node_id is not None:
        node_id = str(node_id)
        if node_id in nodes:
            return node(node_id, nodes[node_id])
        if key in STRICT_NODE_FIELDS:
            raise bad_request(f"Invalid list node id for field {key}: {node_id}")
        text = str(value.get("value") or node_id)
        return node(node_id, text)
    text = str(value.get("value", ""))
    if text.lower() in by_value:
        found = by_value[text.lower()]
        return node(found, nodes[found])
    if key in STRICT_NODE_FIELDS:
        raise bad_request(f"Invalid list node value for field {key}: {text}")
    return {"value": text, "formattedvalue": text}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def int_or_none(value: Any) -> int | None:
    """A record id from a bare int, a numeric string or a link object."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return int_or_none(value.get("id"))
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None

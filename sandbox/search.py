"""The Search API (API_NOTES 3.3): parse a filter group, validate it like iCIMS, scan the records.

A query compiles once into nested predicates; the scan walks ids in ascending order and stops at the
first 1000 matches, and a top-level `{entity}.id >` paging filter starts the walk at that id, so
paging through 100k people stays cheap. Record values are read straight from the stored dicts (no
index to keep in step with direct `Tenant` mutations); date texts are parsed once and memoised.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sandbox.errors import bad_request
from sandbox.serialize import int_or_none
from sandbox.store import Record, Tenant
from tools.icims.formats import parse_datetime

MAX_RESULTS = 1000
ENTITY = {
    "people": "person",
    "jobs": "job",
    "companies": "company",
    "talentpools": "talentpool",
    "applicantworkflows": "applicantworkflow",
    "sourceworkflows": "sourceworkflow",
}
FILTER_OPERATORS = ("=", "==", "!=", "!==", "<", ">", "<=", ">=")
VALID_OPERATORS = {
    "text": frozenset({"=", "==", "!=", "!=="}),
    "idcsv": frozenset({"=", "!="}),
    "listnode": frozenset({"=", "!="}),
    "number": frozenset({"=", "!=", "<", ">", "<=", ">="}),
    "date": frozenset({"=", "!=", "<", ">", "<=", ">="}),
}
GROUP_KEYS = frozenset({"filters", "operator", "children"})
FILTER_KEYS = frozenset({"name", "value", "operator", "secondaryValue"})
MINUTE = timedelta(minutes=1)


class SearchContext:
    """Per-search lookups that cross records (job location -> company address)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self._company_addresses: dict[tuple[int, int], dict[str, Any]] | None = None

    def company_address(self, company_id: Any, entry: Any) -> dict[str, Any] | None:
        if self._company_addresses is None:
            addresses: dict[tuple[int, int], dict[str, Any]] = {}
            for cid, record in self.tenant.records["companies"].items():
                for address in record.data.get("addresses") or []:
                    entry_id = int_or_none(address.get("entry"))
                    if entry_id is not None:
                        addresses[(cid, entry_id)] = address
            self._company_addresses = addresses
        company, entry_id = int_or_none(company_id), int_or_none(entry)
        if company is None or entry_id is None:
            return None
        return self._company_addresses.get((company, entry_id))


Getter = Callable[[SearchContext, int, Record], list[Any]]


@dataclass(frozen=True)
class FilterField:
    type: str  # text | number | date | listnode | idcsv
    get: Getter
    # Fast paths for the common cases (a 100k scan runs the predicate 100k times): a top-level data
    # key, a record timestamp ("created"/"updated") or the record id.
    key: str | None = None
    timestamp: str | None = None
    is_id: bool = False


# --- value extraction --------------------------------------------------------------------------


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return ["Yes" if value else "No"]
    if isinstance(value, int | float):
        return [_number_text(value)]
    if isinstance(value, dict):
        return [str(value[k]) for k in ("value", "abbrev", "id") if value.get(k) not in (None, "")][:1]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return [str(value)]


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _numbers(value: Any) -> list[float]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, str):
        try:
            return [float(value.replace(",", ""))]
        except ValueError:
            return []
    if isinstance(value, dict):
        return _numbers(value.get("id"))
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    return []


def _nodes(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [n for item in value for n in _nodes(item)]
    return [{"value": str(value)}]


@lru_cache(maxsize=65_536)
def _parse_date(text: str) -> datetime | None:
    try:
        return parse_datetime(text)
    except ValueError:
        return None


def _dates(value: Any) -> list[datetime]:
    if value is None:
        return []
    if isinstance(value, datetime):
        return [value if value.tzinfo else value.replace(tzinfo=UTC)]
    if isinstance(value, str):
        parsed = _parse_date(value)
        return [parsed] if parsed else []
    if isinstance(value, list):
        return [d for item in value for d in _dates(item)]
    return []


def _data(key: str, convert: Callable[[Any], list[Any]]) -> Getter:
    return lambda ctx, rid, rec: convert(rec.data.get(key))


def _record_id(ctx: SearchContext, rid: int, rec: Record) -> list[Any]:
    return [float(rid)]


def _created(ctx: SearchContext, rid: int, rec: Record) -> list[Any]:
    return _dates(rec.created)


def _updated(ctx: SearchContext, rid: int, rec: Record) -> list[Any]:
    return _dates(rec.updated)


def _address(key: str, convert: Callable[[Any], list[Any]]) -> Getter:
    def get(ctx: SearchContext, rid: int, rec: Record) -> list[Any]:
        return [v for address in rec.data.get("addresses") or [] for v in convert(address.get(key))]

    return get


def _link(key: str) -> Getter:
    def get(ctx: SearchContext, rid: int, rec: Record) -> list[Any]:
        linked = int_or_none(rec.data.get(key))
        return [] if linked is None else [float(linked)]

    return get


def _job_location(key: str, convert: Callable[[Any], list[Any]]) -> Getter:
    def get(ctx: SearchContext, rid: int, rec: Record) -> list[Any]:
        location = rec.data.get("joblocation")
        if not isinstance(location, dict):
            return []
        if key == "companyid":
            return convert(location.get("companyid"))
        address = ctx.company_address(location.get("companyid"), location.get("id"))
        return [] if address is None else convert(address.get(key))

    return get


def _address_fields(prefix: Callable[[str, Callable[[Any], list[Any]]], Getter]) -> dict[str, FilterField]:
    return {
        "addresscity": FilterField("text", prefix("addresscity", _texts)),
        "addresszip": FilterField("text", prefix("addresszip", _texts)),
        "addressstreet1": FilterField("text", prefix("addressstreet1", _texts)),
        "addressstate": FilterField("listnode", prefix("addressstate", _nodes)),
        "addressstatetext": FilterField("text", prefix("addressstate", _texts)),
        "addresscountry": FilterField("listnode", prefix("addresscountry", _nodes)),
        "addresscountrytext": FilterField("text", prefix("addresscountry", _texts)),
    }


def _common() -> dict[str, FilterField]:
    return {
        "id": FilterField("number", _record_id, is_id=True),
        "idCSV": FilterField("idcsv", _record_id, is_id=True),
        "createddate": FilterField("date", _created, timestamp="created"),
        "updateddate": FilterField("date", _updated, timestamp="updated"),
    }


def _data_fields(spec: dict[str, tuple[str, str]]) -> dict[str, FilterField]:
    converters: dict[str, Callable[[Any], list[Any]]] = {
        "text": _texts,
        "number": _numbers,
        "date": _dates,
        "listnode": _nodes,
    }
    return {
        name: FilterField(kind, _data(key, converters[kind]), key=key) for name, (key, kind) in spec.items()
    }


FIELDS: dict[str, dict[str, FilterField]] = {
    "person": {
        **_common(),
        **_data_fields(
            {
                "firstname": ("firstname", "text"),
                "middlename": ("middlename", "text"),
                "lastname": ("lastname", "text"),
                "email": ("email", "text"),
                "emailaddress": ("email", "text"),
                "externalid": ("externalid", "text"),
                "folder": ("folder", "listnode"),
                "source": ("source", "text"),
                "startdate": ("startdate", "date"),
                "hiredate": ("hiredate", "date"),
                "enddate": ("enddate", "date"),
            }
        ),
        **_address_fields(_address),
    },
    "job": {
        **_common(),
        **_data_fields(
            {
                "jobnumber": ("jobid", "text"),
                "jobid": ("jobid", "text"),
                "externalid": ("externalid", "text"),
                "jobtitle": ("jobtitle", "text"),
                "folder": ("folder", "listnode"),
                "jobtype": ("jobtype", "listnode"),
                "hiretype": ("hiretype", "listnode"),
                "positionlevel": ("positionlevel", "listnode"),
                "positiontype": ("positiontype", "listnode"),
                "positioncategory": ("positioncategory", "listnode"),
                "numberofpositions": ("numberofpositions", "number"),
                "startdate": ("startdate", "date"),
                "duedate": ("duedate", "date"),
            }
        ),
        "recruiter.id": FilterField("number", _link("recruiter")),
        "hiringmanager.id": FilterField("number", _link("hiringmanager")),
        "joblocation.companyid": FilterField("number", _job_location("companyid", _numbers)),
        **{f"joblocation.{name}": spec for name, spec in _address_fields(_job_location).items()},
    },
    "company": {
        **_common(),
        **_data_fields({"name": ("name", "text"), "folder": ("folder", "listnode")}),
        **_address_fields(_address),
    },
    "talentpool": {
        **_common(),
        **_data_fields(
            {
                "title": ("title", "text"),
                "title.text": ("title", "text"),
                "externalid": ("externalid", "text"),
                "externalid.text": ("externalid", "text"),
                "folder": ("folder", "listnode"),
                "folder.number": ("folder", "listnode"),
            }
        ),
        "owner": FilterField("number", _link("owner")),
        "owner.id": FilterField("number", _link("owner")),
        "owner.number": FilterField("number", _link("owner")),
    },
    "applicantworkflow": {
        **_common(),
        **_data_fields(
            {
                "status": ("status", "listnode"),
                "bin": ("bin", "listnode"),
                "source": ("source", "text"),
                "sourcename": ("sourcename", "text"),
            }
        ),
        "person.id": FilterField("number", _link("associatedprofile")),
        "job.id": FilterField("number", _link("baseprofile")),
    },
    "sourceworkflow": {
        **_common(),
        **_data_fields(
            {
                "status": ("status", "listnode"),
                "status.number": ("status", "listnode"),
                "source": ("source", "text"),
                "source.number": ("source", "text"),
                "sourcename": ("sourcename", "text"),
                "sourcename.number": ("sourcename", "text"),
                "sourceorigin": ("sourceorigin", "listnode"),
                "sourceorigin.number": ("sourceorigin", "listnode"),
                "vendorname": ("vendorname", "text"),
                "vendorname.text": ("vendorname", "text"),
            }
        ),
        "person.id": FilterField("number", _link("associatedprofile")),
        "associatedprofile.person": FilterField("number", _link("associatedprofile")),
        "talentpool.id": FilterField("number", _link("baseprofile")),
        "baseprofile.number": FilterField("number", _link("baseprofile")),
    },
}
CUSTOM_FIELD = re.compile(r"^customfield(\d+)(?:\.(text|number|date|listnode|person|job))?$")
CUSTOM_TYPES: dict[str, tuple[str, Callable[[Any], list[Any]]]] = {
    "text": ("text", _texts),
    "number": ("number", _numbers),
    "date": ("date", _dates),
    "listnode": ("listnode", _nodes),
    "person": ("number", _numbers),
    "job": ("number", _numbers),
}


def lookup_field(entity: str, name: str) -> FilterField | None:
    if not name.startswith(entity + "."):
        return None
    rest = name[len(entity) + 1 :]
    found = FIELDS[entity].get(rest)
    if found is not None:
        return found
    match = CUSTOM_FIELD.match(rest)
    if match:
        number, suffix = match.groups()
        kind, convert = CUSTOM_TYPES[suffix or "text"]
        return FilterField(kind, _data(f"field{number}", convert), key=f"field{number}")
    return None


# --- compilation ------------------------------------------------------------------------------

Predicate = Callable[[int, Record], bool]


@dataclass
class CompiledQuery:
    predicate: Predicate
    min_id: int = 0  # ids <= this cannot match (from a top-level `id >`/`id >=` filter)
    filters: int = 0


def compile_query(query: Any, kind: str, ctx: SearchContext) -> CompiledQuery:
    """Validate like iCIMS (errors name the culprit) and build the predicate tree."""
    if kind not in ENTITY:
        raise bad_request(f"Search is not supported for {kind}")
    entity = ENTITY[kind]
    if not isinstance(query, dict):
        raise bad_request("An unknown parsing error occurred")
    counter = [0]
    predicate = _compile_group(query, entity, ctx, counter)
    if counter[0] == 0:
        raise bad_request("At least one filter must be specified")
    return CompiledQuery(predicate, _min_id(query, entity), counter[0])


def _compile_group(group: dict[str, Any], entity: str, ctx: SearchContext, counter: list[int]) -> Predicate:
    for key in group:
        if key not in GROUP_KEYS:
            raise bad_request(f"The following group attribute is unrecognized: {key}")
    operator = group.get("operator", "&")
    if operator not in ("&", "|"):
        raise bad_request(f"The following group operator is not valid in the given context: {operator}")
    filters = group.get("filters") or []
    children = group.get("children") or []
    if not isinstance(filters, list) or not isinstance(children, list):
        raise bad_request("An unknown parsing error occurred")
    parts: list[Predicate] = []
    for item in filters:
        if not isinstance(item, dict):
            raise bad_request("An unknown parsing error occurred")
        parts.append(_compile_filter(item, entity, ctx))
        counter[0] += 1
    for child in children:
        if not isinstance(child, dict):
            raise bad_request("An unknown parsing error occurred")
        parts.append(_compile_group(child, entity, ctx, counter))
    if not parts:
        raise bad_request("At least one filter must be specified")
    return _combine(parts, operator)


def _combine(parts: list[Predicate], operator: str) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        if operator == "&":
            return lambda rid, rec: first(rid, rec) and second(rid, rec)
        return lambda rid, rec: first(rid, rec) or second(rid, rec)
    if operator == "&":
        return lambda rid, rec: all(part(rid, rec) for part in parts)
    return lambda rid, rec: any(part(rid, rec) for part in parts)


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(v) for v in raw if v is not None]
    return [str(raw)]


def _compile_filter(spec: dict[str, Any], entity: str, ctx: SearchContext) -> Predicate:
    for key in spec:
        if key not in FILTER_KEYS:
            raise bad_request(f"The following filter attribute is unrecognized: {key}")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        shown = "(missing name)" if name is None else repr(name)
        raise bad_request(f"The following filter is either not valid or hidden: {shown}")
    found = lookup_field(entity, name)
    if found is None:
        raise bad_request(f"The following filter is either not valid or hidden: {name}")
    operator = spec.get("operator", "=")
    if operator not in FILTER_OPERATORS or operator not in VALID_OPERATORS[found.type]:
        raise bad_request(f"The following filter operator is not valid in the given context: {operator}")
    values = _values(spec.get("value"))
    secondary = _values(spec.get("secondaryValue"))
    builders = {
        "text": _text_predicate,
        "idcsv": _idcsv_predicate,
        "listnode": _node_predicate,
        "number": _number_predicate,
        "date": _date_predicate,
    }
    return builders[found.type](name, found, operator, values, secondary, ctx)


def _negate(operator: str) -> bool:
    return operator in ("!=", "!==")


def _text_predicate(
    name: str, spec: FilterField, operator: str, values: list[str], secondary: list[str], ctx: SearchContext
) -> Predicate:
    wanted = [v.strip().lower() for v in values]
    exact = operator in ("==", "!==")
    negate = _negate(operator)
    get, key = spec.get, spec.key

    single = wanted[0] if len(wanted) == 1 else None

    def matches(text: str) -> bool:
        text = text.lower()
        if exact:
            return text in wanted
        if single is not None:
            return single in text
        return any(w in text for w in wanted)

    def test(rid: int, rec: Record) -> bool:
        if key is not None:
            value = rec.data.get(key)
            if value is None:
                return negate
            if value.__class__ is str:
                return matches(value) != negate
        return any(matches(t) for t in get(ctx, rid, rec)) != negate

    return test


def _idcsv_predicate(
    name: str, spec: FilterField, operator: str, values: list[str], secondary: list[str], ctx: SearchContext
) -> Predicate:
    ids: set[int] = set()
    for value in values:
        for part in value.split(","):
            if part.strip():
                ids.add(int(_parse_number(name, part)))
    negate = _negate(operator)
    return lambda rid, rec: (rid in ids) != negate  # idCSV always filters the record id


def _node_predicate(
    name: str, spec: FilterField, operator: str, values: list[str], secondary: list[str], ctx: SearchContext
) -> Predicate:
    wanted = {v.strip().lower() for v in values}
    negate = _negate(operator)
    get, key = spec.get, spec.key

    def node_matches(item: dict[str, Any]) -> bool:
        for part in ("id", "value", "formattedvalue", "abbrev"):
            text = item.get(part)
            if text is not None and str(text).lower() in wanted:
                return True
        return False

    # Seeded records share their list-node dicts, so one answer per node object serves the whole
    # scan (the tenant lock keeps every node alive and unchanged meanwhile).
    seen: dict[int, bool] = {}

    def test(rid: int, rec: Record) -> bool:
        if key is not None:
            value = rec.data.get(key)
            if value is None:
                return negate
            if value.__class__ is dict:
                hit = seen.get(id(value))
                if hit is None:
                    hit = seen[id(value)] = node_matches(value)
                return hit != negate
        return any(node_matches(item) for item in get(ctx, rid, rec)) != negate

    return test


def _parse_number(name: str, text: str) -> float:
    try:
        return float(text.strip().replace(",", ""))
    except ValueError:
        raise bad_request(
            f"An unknown parsing error occurred: {name} expects a number, got {text!r}"
        ) from None


def _number_predicate(
    name: str, spec: FilterField, operator: str, values: list[str], secondary: list[str], ctx: SearchContext
) -> Predicate:
    numbers = [_parse_number(name, v) for v in values]
    if not numbers:
        return lambda rid, rec: operator == "!="
    first = numbers[0]
    compare: dict[str, Callable[[float], bool]] = {
        "=": lambda x: x in numbers,
        "!=": lambda x: x in numbers,
        "<": lambda x: x < first,
        ">": lambda x: x > first,
        "<=": lambda x: x <= first,
        ">=": lambda x: x >= first,
    }
    check = compare[operator]
    negate = operator == "!="
    get = spec.get
    if spec.is_id:
        return lambda rid, rec: check(rid) != negate

    def test(rid: int, rec: Record) -> bool:
        return any(check(x) for x in get(ctx, rid, rec)) != negate

    return test


def _date_predicate(
    name: str, spec: FilterField, operator: str, values: list[str], secondary: list[str], ctx: SearchContext
) -> Predicate:
    if not values and not secondary:
        raise bad_request(f"Date filters need a value or secondaryValue: {name}")
    # Unparseable dates drop their boundary, which lets everything through (API_NOTES 3.3).
    start = _parse_date(values[0]) if values else None
    end = _parse_date(secondary[0]) if secondary else None
    # Records compare at minute precision; bounds are whole minutes, so floor(t) >= b <=> t >= b and
    # floor(t) <= b <=> t < b + 1 minute, which avoids flooring every record's timestamp.
    low: datetime | None = None  # t >= low
    high: datetime | None = None  # t < high
    if operator in ("=", "!="):
        low = start
        high = end + MINUTE if end else None
    elif operator == ">":
        low = start + MINUTE if start else None
        high = end + MINUTE if end else None
    elif operator == ">=":
        low = start
        high = end + MINUTE if end else None
    else:
        bound = start if values else end
        if bound is not None:
            high = bound if operator == "<" else bound + MINUTE
    negate = operator == "!="
    if low is None and high is None:
        return lambda rid, rec: not negate

    def inside(t: datetime) -> bool:
        return (low is None or t >= low) and (high is None or t < high)

    get, stamp = spec.get, spec.timestamp
    if stamp is not None:

        def on_timestamp(rid: int, rec: Record) -> bool:
            t = rec.created if stamp == "created" else rec.updated
            if t.tzinfo is None:
                t = t.replace(tzinfo=UTC)
            return inside(t) != negate

        return on_timestamp

    def test(rid: int, rec: Record) -> bool:
        return any(inside(t) for t in get(ctx, rid, rec)) != negate

    return test


def _min_id(query: dict[str, Any], entity: str) -> int:
    """The paging floor from top-level `{entity}.id >`/`>=` filters ANDed with the rest."""
    filters = query.get("filters") or []
    if query.get("operator", "&") != "&" and len(filters) + len(query.get("children") or []) > 1:
        return 0
    floor = 0
    for item in filters:
        if item.get("name") != f"{entity}.id" or item.get("operator") not in (">", ">="):
            continue
        values = _values(item.get("value"))
        if not values:
            continue
        try:
            number = float(values[0])
        except ValueError:
            continue
        bound = int(number) if item["operator"] == ">" or not number.is_integer() else int(number) - 1
        floor = max(floor, bound)
    return floor


# --- execution --------------------------------------------------------------------------------


def run_search(tenant: Tenant, kind: str, query: Any, limit: int = MAX_RESULTS) -> list[int]:
    """Matching ids, ascending, at most `limit`."""
    ctx = SearchContext(tenant)
    compiled = compile_query(query, kind, ctx)
    with tenant.lock:
        records = tenant.records[kind]
        ids = sorted(records)
        start = bisect.bisect_right(ids, compiled.min_id) if compiled.min_id else 0
        found: list[int] = []
        predicate = compiled.predicate
        for rid in ids[start:]:
            record = records.get(rid)
            if record is not None and predicate(rid, record):
                found.append(rid)
                if len(found) >= limit:
                    break
    return found

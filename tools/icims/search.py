"""Search API request bodies (API_NOTES 3.3) and a small fluent builder.

    from tools.icims.search import F, and_, or_, custom_field
    query = and_(
        F("person.updateddate").gt(since),
        or_(F("person.firstname").eq("John"), F("person.firstname").eq("Jane")),
        custom_field("people", 51231, "text").eq("Granted"),
    )

`SearchQuery.model_dump()` / `.to_json()` give the exact JSON iCIMS expects: `None` fields are left
out (iCIMS rejects unknown or null attributes), `secondaryValue` keeps its camelCase spelling.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from tools.icims.formats import format_date, format_datetime

__all__ = [
    "ENTITY",
    "PAGE_SIZE",
    "F",
    "FieldType",
    "Operator",
    "SearchFilter",
    "SearchQuery",
    "and_",
    "collection_field",
    "custom_field",
    "entity_for",
    "field",
    "or_",
    "with_id_after",
]

# Search endpoint (profile kind) -> filter name prefix.
ENTITY: dict[str, str] = {
    "people": "person",
    "jobs": "job",
    "applicantworkflows": "applicantworkflow",
    "sourceworkflows": "sourceworkflow",
    "talentpools": "talentpool",
    "companies": "company",
}
# Rows per Search API response; a shorter page is the last one.
PAGE_SIZE = 1000

Operator = Literal["=", "==", "!=", "!==", "<", ">", "<=", ">="]
GroupOperator = Literal["&", "|"]
FieldType = Literal["text", "number", "date", "listnode", "person", "job"]
FilterValue = str | int | float | date | datetime


def to_filter_text(value: FilterValue) -> str:
    """Filter values are strings; datetimes go in iCIMS's UTC `yyyy-mm-dd hh:mm a` form."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, bool):  # before int: True is an int
        return "Yes" if value else "No"
    return str(value)


def _text_list(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | int | float | date | datetime):
        return [to_filter_text(value)]
    if isinstance(value, Iterable):
        return [to_filter_text(v) for v in value]
    return value


class SearchFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    value: list[str] = Field(default_factory=list)
    operator: Operator = "="
    secondaryValue: list[str] | None = None

    @field_validator("value", "secondaryValue", mode="before")
    @classmethod
    def _coerce_values(cls, value: Any) -> Any:
        return _text_list(value)

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}


class SearchQuery(BaseModel):
    """A filter group: `filters` combined with `operator`, plus nested `children` groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filters: list[SearchFilter] = Field(default_factory=list)
    operator: GroupOperator = "&"
    children: list[SearchQuery] | None = None

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump()


def entity_for(kind_or_entity: str) -> str:
    """`"people"` or `"person"` -> `"person"`."""
    if kind_or_entity in ENTITY:
        return ENTITY[kind_or_entity]
    if kind_or_entity in ENTITY.values():
        return kind_or_entity
    raise ValueError(f"unknown iCIMS search entity {kind_or_entity!r}; expected one of {sorted(ENTITY)}")


class F:
    """Fluent filter factory for one filter name: `F("job.folder").eq("D31001")`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _make(self, operator: Operator, values: Iterable[FilterValue]) -> SearchFilter:
        texts = [to_filter_text(v) for v in values]
        if not texts:
            raise ValueError(f"{self.name}: at least one value is required")
        return SearchFilter(name=self.name, value=texts, operator=operator)

    def eq(self, *values: FilterValue) -> SearchFilter:
        """`=`: exact for lists/numbers/dates, *contains* for text. Several values match any of them."""
        return self._make("=", values)

    contains = eq

    def exact(self, *values: FilterValue) -> SearchFilter:
        """`==`: exact text match."""
        return self._make("==", values)

    def ne(self, *values: FilterValue) -> SearchFilter:
        return self._make("!=", values)

    def not_exact(self, *values: FilterValue) -> SearchFilter:
        return self._make("!==", values)

    def gt(self, value: FilterValue) -> SearchFilter:
        return self._make(">", [value])

    def ge(self, value: FilterValue) -> SearchFilter:
        return self._make(">=", [value])

    def lt(self, value: FilterValue) -> SearchFilter:
        return self._make("<", [value])

    def le(self, value: FilterValue) -> SearchFilter:
        return self._make("<=", [value])

    def between(self, start: FilterValue | None, end: FilterValue | None) -> SearchFilter:
        """Date/number range: `value` = start, `secondaryValue` = end (both inclusive in iCIMS).
        An open end becomes `>=`/`<=` rather than relying on the documented one-sided range form."""
        if start is None and end is None:
            raise ValueError(f"{self.name}: between() needs a start or an end")
        if end is None:
            assert start is not None
            return self.ge(start)
        if start is None:
            return self.le(end)
        return SearchFilter(
            name=self.name, value=[to_filter_text(start)], operator="=", secondaryValue=[to_filter_text(end)]
        )


def field(kind_or_entity: str, name: str) -> F:
    """`field("people", "updateddate")` -> `F("person.updateddate")`."""
    return F(f"{entity_for(kind_or_entity)}.{name}")


def _field_number(number: int | str) -> str:
    text = str(number).removeprefix("field")
    if not text.isdigit():
        raise ValueError(f"custom field number expected, got {number!r}")
    return text


def custom_field(kind_or_entity: str, number: int | str, type: FieldType = "text") -> F:
    """`{entity}.customfield{N}.{type}`; `number` may be `51231` or `"field51231"`."""
    return F(f"{entity_for(kind_or_entity)}.customfield{_field_number(number)}.{type}")


def collection_field(kind_or_entity: str, number: int | str, type: FieldType = "text") -> F:
    """Custom fields inside collections take no dot before the type: `{entity}.collectionfield{N}{type}`."""
    return F(f"{entity_for(kind_or_entity)}.collectionfield{_field_number(number)}{type}")


def _group(operator: GroupOperator, items: Iterable[SearchFilter | SearchQuery]) -> SearchQuery:
    filters: list[SearchFilter] = []
    children: list[SearchQuery] = []
    for item in items:
        if isinstance(item, SearchFilter):
            filters.append(item)
        elif isinstance(item, SearchQuery):
            children.append(item)
        else:
            raise TypeError(f"expected SearchFilter or SearchQuery, got {type(item).__name__}")
    return SearchQuery(filters=filters, operator=operator, children=children or None)


def and_(*items: SearchFilter | SearchQuery) -> SearchQuery:
    return _group("&", items)


def or_(*items: SearchFilter | SearchQuery) -> SearchQuery:
    return _group("|", items)


def with_id_after(query: SearchQuery, entity: str, after_id: int) -> SearchQuery:
    """The query for the next page: the same filters AND `<entity>.id > after_id` (API_NOTES 3.3).

    An OR group cannot simply gain a filter (it would widen the result), so it becomes the child
    of a new AND group. In an AND group an existing single-valued `<entity>.id >` filter is replaced
    rather than duplicated, as the Search API docs do when paging.
    """
    name = f"{entity}.id"
    id_filter = SearchFilter(name=name, value=[str(after_id)], operator=">")
    if query.operator == "|":
        return SearchQuery(filters=[id_filter], operator="&", children=[query])
    filters = list(query.filters)
    for index, existing in enumerate(filters):
        if (
            existing.name == name
            and existing.operator == ">"
            and len(existing.value) == 1
            and existing.value[0].isdigit()
            and existing.secondaryValue is None
        ):
            lower = max(int(existing.value[0]), after_id)
            filters[index] = SearchFilter(name=name, value=[str(lower)], operator=">")
            return query.model_copy(update={"filters": filters})
    return query.model_copy(update={"filters": [*filters, id_filter]})

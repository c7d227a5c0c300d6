"""Offer drafting: jurisdiction clause rules, validation, and rendering (PDF figures read back)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from pypdf import PdfReader

from agents.offer import (
    OfferTerms,
    band_for,
    draft_offer,
    render_docx,
    render_pdf,
    revise_draft,
    validate_draft,
)
from agents.offer.models import Clause

LETTER_DATE = date(2027, 1, 15)
CANDIDATE = {"name": "Ada Lovelace", "address_lines": ["1 Main St", "Springfield"]}


def req(location: str, *, posted: tuple[int, int] | None = (120000, 160000)) -> dict:
    fields = {
        "jobid": "2025-1001",
        "jobtitle": "Software Developer",
        "joblocation": {"value": location},
        "field52003": "15-1252.00",
        "field52006": "Hybrid",
        "hiringmanager": {"value": "Dana Lee"},
    }
    if posted:
        fields["field52004"], fields["field52005"] = posted
    return fields


def terms(**changes) -> OfferTerms:
    values = {
        "base_salary": Decimal("135000"),
        "start_date": date(2027, 3, 1),
        "sign_on_bonus": Decimal("10000"),
        "equity_value": Decimal("25000"),
        "target_bonus_pct": Decimal("10"),
        "pto_days": 20,
        "remote": "Hybrid",
        "expires_on": date(2027, 1, 29),
    }
    return OfferTerms.model_validate({**values, **changes})


def draft(location: str = "Austin, TX", **changes):
    return draft_offer(
        req(location), CANDIDATE, terms(**changes), company="Acme Corp", letter_date=LETTER_DATE
    )


@pytest.mark.parametrize(
    ("location", "disclosed"),
    [
        ("San Jose, CA", True),
        ("Denver, CO", True),
        ("Albany, NY", True),
        ("Seattle, WA", True),
        ("Austin, TX", False),
    ],
)
def test_pay_range_disclosure_where_required(location: str, disclosed: bool) -> None:
    d = draft(location)
    assert ("pay_range_disclosure" in d.clause_ids) is disclosed
    if disclosed:
        assert d.figures["pay_range_min"] == "$120,000" and d.figures["pay_range_max"] == "$160,000"
    assert validate_draft(d) == []


@pytest.mark.parametrize("state_city", ["Los Angeles, CA", "Minneapolis, MN", "Fargo, ND", "Tulsa, OK"])
def test_non_compete_omitted_where_unenforceable(state_city: str) -> None:
    d = draft(state_city, non_compete=True)
    assert "non_compete" not in d.clause_ids
    assert any(o.startswith("non_compete") for o in d.omitted)
    assert not any(i.severity == "error" for i in validate_draft(d))


def test_non_compete_kept_elsewhere_and_prohibited_clause_flagged() -> None:
    tx = draft("Austin, TX", non_compete=True)
    assert "non_compete" in tx.clause_ids
    ca = draft("San Jose, CA", non_compete=True)
    tampered = ca.model_copy(
        update={"clauses": [*ca.clauses, Clause(id="non_compete", title="Non-competition", text="x")]}
    )
    codes = {i.code for i in validate_draft(tampered)}
    assert "prohibited_clause" in codes


def test_at_will_by_state() -> None:
    ca = draft("San Jose, CA")
    tx = draft("Austin, TX")
    mt = draft("Helena, MT")
    ca_text = next(c.text for c in ca.clauses if c.id == "at_will")
    assert "Labor Code section 2922" in ca_text
    assert "2922" not in next(c.text for c in tx.clauses if c.id == "at_will")
    assert "at_will" not in mt.clause_ids and "montana_probation" in mt.clause_ids
    assert "ca_wage_notice" in ca.clause_ids and "ny_pay_notice" in draft("Albany, NY").clause_ids
    assert "invention_notice" in ca.clause_ids and "invention_notice" not in tx.clause_ids


def test_conditional_clauses_follow_terms() -> None:
    d = draft(sign_on_bonus=0, equity_value=0, target_bonus_pct=None, pto_days=None, remote=None)
    for clause in ("sign_on_bonus", "equity", "target_bonus", "paid_time_off", "work_location"):
        assert clause not in d.clause_ids
    assert validate_draft(d) == []


def test_validation_catches_missing_clause_stale_figures_and_dates() -> None:
    d = draft("San Jose, CA")
    missing = d.model_copy(update={"clauses": [c for c in d.clauses if c.id != "pay_range_disclosure"]})
    assert "missing_clause" in {i.code for i in validate_draft(missing)}
    stale = d.model_copy(update={"terms": d.terms.model_copy(update={"base_salary": Decimal("150000")})})
    codes = {i.code for i in validate_draft(stale)}
    assert {"figures_stale", "render_stale"} <= codes
    out_of_range = draft("San Jose, CA", base_salary=Decimal("160000.01"))
    assert "base_outside_disclosed_range" in {i.code for i in validate_draft(out_of_range)}
    past = draft(start_date=date(2027, 1, 4), expires_on=None)
    assert "bad_date" in {i.code for i in validate_draft(past)}
    late_expiry = draft(expires_on=date(2027, 3, 5))
    assert "bad_date" in {i.code for i in validate_draft(late_expiry)}
    weekend = draft(start_date=date(2027, 3, 6))
    assert [i.code for i in validate_draft(weekend)] == ["weekend_start"]


def test_jurisdiction_from_location_and_unknown() -> None:
    assert draft("Denver, CO").jurisdiction == "CO"
    with pytest.raises(ValueError):
        draft_offer(req("Remote"), CANDIDATE, terms(), letter_date=LETTER_DATE)
    explicit = draft_offer(req("Remote"), CANDIDATE, terms(), jurisdiction="wa", letter_date=LETTER_DATE)
    assert explicit.jurisdiction == "WA"


def test_band_used_when_no_posted_range() -> None:
    band = band_for("15-1252", "L3", "Denver, CO")
    d = draft_offer(
        req("Denver, CO", posted=None),
        CANDIDATE,
        terms(base_salary=band.mid),
        band=band,
        letter_date=LETTER_DATE,
    )
    assert d.pay_range == (band.min, band.max)
    assert validate_draft(d) == []


def test_revise_rerenders_and_validates() -> None:
    d = draft("San Jose, CA")
    revised = revise_draft(d, base_salary=Decimal("150000.50"))
    assert revised.figures["base_salary"] == "$150,000.50"
    assert "$150,000.50" in revised.html and validate_draft(revised) == []


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_pdf_contains_every_approved_figure() -> None:
    d = revise_draft(draft("Seattle, WA"), base_salary=Decimal("141234.56"))
    pdf = render_pdf(d)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert len(d.figures) >= 9
    for label, figure in d.figures.items():
        assert figure in text, label
    assert "Ada Lovelace" in text and "RCW 49.44.140" in text


def test_docx_contains_every_figure_and_clause() -> None:
    d = draft("Albany, NY")
    document = Document(io.BytesIO(render_docx(d)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "{{" not in text and "{%" not in text
    for figure in d.figures.values():
        assert figure in text
    for clause in d.clauses:
        assert clause.text in text
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings == [c.title for c in d.clauses]

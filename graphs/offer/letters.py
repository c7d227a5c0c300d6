"""The approved letter: rendered (PDF and DOCX, each read back to prove it states exactly the
approved figures), then written to iCIMS through the kit's write step: the PDF attached to the
person once, the offer status set on the application once (read-compare-write), the mirror updated.

The write node checks again that every step the policy requires for the FINAL terms is signed off
before it sends anything, and that the file on disk is the one that was checked. Its ledger keys and
the `writes` it records in state keep the names offer-1 runs used, so a run that crashed mid-write
before an upgrade resumes without sending anything twice.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.offer import render_docx, render_pdf
from agents.offer.signoff import missing, terms_hash
from graphs.kit.nodes import run_async
from graphs.kit.write import RecordWrite, WriteBack
from graphs.offer.deps import OfferDeps
from graphs.offer.state import OfferError, OfferState
from graphs.offer.versions import draft_of
from tools.icims.client import BinaryFile

LETTER_WRITE = "offer_letter"  # ledger action `offer_letter:{field}` on the person
FIELDS_WRITE = "offer_fields"  # ledger action on `applicantworkflows:{id}`
# The kit's step names -> the offer's (what `OfferDeps.on_write_step` hears).
STEP_NAMES = {f"{LETTER_WRITE}_attached": "letter_attached", f"{LETTER_WRITE}_recorded": "letter_recorded"}


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def docx_text(content: bytes) -> str:
    from docx import Document

    return " ".join(" ".join(p.text for p in Document(io.BytesIO(content)).paragraphs).split())


def render(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    draft = draft_of(state)
    pdf, docx = render_pdf(draft), render_docx(draft)
    # The letter sent must carry exactly the approved figures: checked on each file's own text.
    for kind, text in (("PDF", pdf_text(pdf)), ("DOCX", docx_text(docx))):
        absent = [f"{label} {figure}" for label, figure in draft.figures.items() if figure not in text]
        if absent:
            raise OfferError(f"the rendered {kind} lacks approved figures: " + ", ".join(absent))
    folder = d.files_dir / state["run"]["thread_id"].replace(":", "_")
    folder.mkdir(parents=True, exist_ok=True)
    version = int(state["version"])
    pdf_path, docx_path = folder / f"offer-v{version}.pdf", folder / f"offer-v{version}.docx"
    pdf_path.write_bytes(pdf)
    docx_path.write_bytes(docx)
    return {
        "letter": {
            "version": version,
            "pdf_path": str(pdf_path),
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
            "pdf_bytes": len(pdf),
            "docx_path": str(docx_path),
            "docx_sha256": hashlib.sha256(docx).hexdigest(),
            "figures": dict(draft.figures),
            "figures_verified": True,
            "terms_hash": terms_hash(draft.terms),
        }
    }


def recorded(write: RecordWrite, action: str | None = None) -> dict[str, Any]:
    """A write as the offer's state records it (the letter's under its own action name)."""
    out = write.to_json()
    if action is not None:
        out["action"] = action
    return out


def write(d: OfferDeps, state: OfferState, config: RunnableConfig) -> dict[str, Any]:
    draft = draft_of(state)
    current = terms_hash(draft.terms)
    lacking = missing(state.get("chain") or [], state.get("decisions") or [], current)
    letter = state["letter"]
    if lacking or letter.get("terms_hash") != current:
        # Unreachable through the graph's edges; kept so no path can attach an unapproved letter.
        raise OfferError("refusing to attach: approvals missing for the final terms: " + ", ".join(lacking))
    if d.client_factory is None:
        raise RuntimeError("no iCIMS client configured: the approved offer cannot be attached offline")
    client_factory = d.client_factory
    content = Path(letter["pdf_path"]).read_bytes()
    if hashlib.sha256(content).hexdigest() != letter["pdf_sha256"]:
        raise OfferError("the rendered letter changed on disk since it was checked")
    ctx, run, fmap = state["context"], state["run"], d.settings.field_map
    version = int(state["version"])

    def on_step(name: str, outcome: RecordWrite) -> None:
        if d.on_write_step is not None:
            d.on_write_step(STEP_NAMES.get(name, name), outcome)

    async def apply() -> list[dict[str, Any]]:
        async with client_factory() as client:
            writer = WriteBack(
                client,
                d.ledger,
                run["thread_id"],
                f"{run['trace_id']}:v{version}",
                mirror=d.mirror,
                on_record_step=on_step,
            )
            pdf = BinaryFile(
                content=content,
                content_type="application/pdf",
                filename=f"offer-letter-{ctx['workflow']['id']}-v{version}.pdf",
            )
            attached = await writer.attach_binary(
                "people", int(ctx["person_id"]), fmap["offer_letter"], pdf, name=LETTER_WRITE
            )
            out = [recorded(attached, "attach_letter")]
            if attached.status in ("done", "already_done"):
                fields = await writer.set_fields(
                    "applicantworkflows",
                    int(ctx["workflow"]["id"]),
                    {fmap["offer_status"]: f"Approved v{version}"},
                    name=FIELDS_WRITE,
                )
                out.append(recorded(fields))
            return out

    writes = run_async(apply)
    ok = all(w["status"] in ("done", "already_done") for w in writes) and len(writes) == 2
    return {"writes": writes, "status": "attached" if ok else "failed"}

"""The check every draft passes before a reviewer sees it and again after any edit or rewrite.

Fixable problems are fixed (a missing unsubscribe link or sender identity is appended); the rest
hold the draft: it is shown to the reviewer as held and is never sent. Checks: unsubscribe link,
sender identity, protected-attribute mentions, unverifiable claims, length limits, leftover
template syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.nurture.models import Signature

MAX_SUBJECT = 120
MAX_BODY = 2500
MIN_BODY = 40

# Words that bring a protected characteristic into a recruiting message (EEO / GDPR special
# categories). Matching is on whole words; the list is deliberately short and conservative.
PROTECTED = re.compile(
    r"\b(age[ds]?|young|younger|old(er)?|elderly|retire(d|ment)?|race|racial|ethnic(ity)?|"
    r"black|white|hispanic|latin[oax]|asian|religio(n|us)|christian|muslim|jewish|hindu|"
    r"gender|male|female|pregnan(t|cy)|maternity|paternity|married|marital|single mother|"
    r"disab(led|ility)|handicap(ped)?|veteran status|nationality|citizenship|immigrant|"
    r"sexual orientation|gay|lesbian|transgender|genetic|health condition)\b",
    re.IGNORECASE,
)
# Promises and superlatives nobody can verify from the data we hold.
UNVERIFIABLE = re.compile(
    r"\b(guarantee[ds]?|guaranteed|promise[ds]?|100\s?%|best (company|employer|place)|"
    r"#\s?1|number one|world[- ]class|you will (get|be offered|be hired)|dream job|"
    r"highest[- ]paying|top salary|risk[- ]free)\b",
    re.IGNORECASE,
)
TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\[FIRST_NAME\]|\[UNSUBSCRIBE_LINK\]")


@dataclass
class ModerationResult:
    subject: str
    body: str
    fixed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(self.problems)

    def to_json(self) -> dict[str, object]:
        return {"held": self.held, "fixed": list(self.fixed), "problems": list(self.problems)}


def moderate(subject: str, body: str, *, unsubscribe_url: str, signature: Signature) -> ModerationResult:
    result = ModerationResult(subject=subject.strip(), body=body.rstrip("\n") + "\n")
    if unsubscribe_url not in result.body:
        result.body += f"\nUnsubscribe: {unsubscribe_url}\n"
        result.fixed.append("unsubscribe link added")
    if signature.name not in result.body or signature.company not in result.body:
        sign = f"\n{signature.name}\n{signature.title}, {signature.company}\n"
        # The signature goes above the unsubscribe line.
        head, sep, tail = result.body.rpartition("\nUnsubscribe:")
        result.body = f"{head}\n{sign}{sep}{tail}" if sep else result.body + sign
        result.fixed.append("sender identity added")
    text = f"{result.subject}\n{result.body}"
    for match in sorted({m.group(0).lower() for m in PROTECTED.finditer(text)}):
        result.problems.append(f"mentions a protected attribute: {match!r}")
    for match in sorted({m.group(0).lower() for m in UNVERIFIABLE.finditer(text)}):
        result.problems.append(f"unverifiable claim: {match!r}")
    if TEMPLATE_SYNTAX.search(text):
        result.problems.append("unfilled template syntax or placeholder")
    if not result.subject:
        result.problems.append("empty subject")
    if len(result.subject) > MAX_SUBJECT:
        result.problems.append(f"subject longer than {MAX_SUBJECT} characters")
    if len(result.body) > MAX_BODY:
        result.problems.append(f"body longer than {MAX_BODY} characters")
    if len(result.body.strip()) < MIN_BODY:
        result.problems.append(f"body shorter than {MIN_BODY} characters")
    return result

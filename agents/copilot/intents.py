"""Deterministic intent parser: the copilot's commands without an LLM.

`parse_intent(text)` maps one chat message to a tool call (tool name + arguments, the same typed
tools the LLM agent calls) or to `None` with a note, in which case the copilot replies with what it
can do. Understood, for example:

    find python developers in Austin          search_candidates(skills, occupation, location)
    find registered nurses in FL with consent search_candidates(occupation, location, consent=granted)
    explain candidate 12 for job 1001         explain_score(person_id=12, job_id=1001)
    rediscover job 1001                       start_rediscovery(job_id=1001)
    draft outreach to 12 for job 1001         draft_outreach(person_id=12, job_id=1001)
    show pending approvals                    list_approvals()
    approve rediscovery:1000:1001             resolve_approval(approval_id=..., decision=accept)
    approve job 1001 without 12, 14           ... with exclude_person_ids=[12, 14] (an edit)
    ignore rediscovery:1000:1001              resolve_approval(..., decision=ignore)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Intent", "parse_intent"]

_THREAD = r"(?P<thread>[A-Za-z][\w.-]*(?::[\w.-]+)+)"
_ID = r"#?(?P<{name}>\d+)"

_SEARCH_VERBS = re.compile(
    r"^\s*(?:please\s+)?(?:find|search(?:\s+for)?|look\s+for|show(?:\s+me)?|list|get|who\s+are)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_CONSENT = [
    (re.compile(r"\b(?:with(?:out)?\s+)?(?:consent\s+)?withdrawn(?:\s+consent)?\b", re.I), "withdrawn"),
    (re.compile(r"\b(?:with\s+)?(?:consent\s+)?pending(?:\s+consent)?\b", re.I), "pending"),
    (
        re.compile(
            r"\b(?:(?:with|who\s+(?:have|gave))\s+(?:valid\s+|granted\s+)?consent|consent(?:ed)?(?:\s+granted)?|"
            r"granted(?:\s+consent)?)\b",
            re.I,
        ),
        "granted",
    ),
]
_LOCATION = re.compile(
    r"\b(?:in|near|around|from|based\s+in|located\s+in)\s+(?P<loc>[A-Za-z][A-Za-z .,'-]*)$", re.I
)
_FILLER = {
    "a", "an", "the", "all", "any", "some", "me", "candidates", "candidate", "people", "person",
    "profiles", "profile", "who", "that", "know", "knows", "with", "skills", "skill", "and", "or",
    "experienced", "experience", "having", "in", "for", "of", "using", "skilled", "mirror", "our",
}  # fmt: skip


@dataclass(frozen=True)
class Intent:
    """A tool call (`tool` + `args`), or `tool=None` when the message was not understood."""

    tool: str | None
    args: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def understood(self) -> bool:
        return self.tool is not None


def _ids(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _person_and_job(text: str) -> tuple[int | None, int | None]:
    """(person id, job id) from "candidate 12 for job 1001", "12 for 1001", "person 12 job 1001"."""
    job = re.search(
        r"\b(?:job|req(?:uisition)?|role|opening|position)\s*" + _ID.format(name="job"), text, re.I
    )
    person = re.search(
        r"\b(?:candidate|person|applicant|people|profile|to|for)\s*" + _ID.format(name="person"), text, re.I
    )
    job_id = int(job.group("job")) if job else None
    person_id = int(person.group("person")) if person else None
    if person_id is not None and person_id == job_id and person and job and person.start() == job.start():
        person_id = None
    numbers = _ids(text)
    if person_id is None:
        rest = [n for n in numbers if n != job_id]
        person_id = rest[0] if rest else None
    if job_id is None:
        rest = [n for n in numbers if n != person_id]
        job_id = rest[0] if rest else None
    return person_id, job_id


def _parse_search(rest: str) -> Intent:
    from agents.enrichment import map_title, skill_index

    args: dict[str, Any] = {}
    text = rest.strip().rstrip("?.! ")
    for pattern, value in _CONSENT:
        if pattern.search(text):
            args["consent"] = value
            text = pattern.sub(" ", text)
            break
    text = re.sub(r"\s+", " ", text).strip(" ,")
    located = _LOCATION.search(text)
    if located:
        args["location"] = located.group("loc").strip(" ,.")
        text = text[: located.start()].strip(" ,")
    words = [w for w in re.split(r"[\s,/]+", text) if w]
    core = " ".join(w for w in words if w.lower() not in _FILLER)
    hits = skill_index().find(core) if core else []
    skills = list(dict.fromkeys(h.label for h in hits))
    rest_words = core
    for hit in sorted(hits, key=lambda h: -h.start):
        rest_words = rest_words[: hit.start] + " " + rest_words[hit.end :]
    rest_words = " ".join(rest_words.split())
    occupation: str | None = None
    if rest_words and map_title(rest_words) is not None:
        occupation = rest_words
    elif core and map_title(core) is not None:
        occupation, skills = core, []  # "sales associates": the title, not the skill "sales"
    elif rest_words:
        occupation = rest_words
    if occupation:
        args["occupation"] = occupation
    if skills:
        args["skills"] = skills
    if not {"skills", "occupation", "location", "consent"} & args.keys():
        return Intent(None, note="Tell me what to search for, e.g. 'find python developers in Austin'.")
    return Intent("search_candidates", args)


def parse_intent(text: str) -> Intent:
    """The tool call one chat message asks for (see the module docstring for the phrasings)."""
    message = " ".join((text or "").split())
    lower = message.lower()
    if not message:
        return Intent(None, note="The message was empty.")
    if re.match(r"^(?:help|\?|what can you do|commands)\b", lower):
        return Intent(None)

    # Resolving an approval: approve / accept / ignore / dismiss <thread id | job N>.
    resolve = re.match(
        r"^(?:please\s+)?(?P<verb>approve|accept|ignore|dismiss|skip|reject|decline)\s+(?:approval\s+|the\s+)?(?P<rest>.+)$",
        message,
        re.I,
    )
    if resolve:
        verb = resolve.group("verb").lower()
        if verb in ("reject", "decline"):
            return Intent(
                None,
                note="Nobody is rejected by the copilot: 'ignore <approval>' closes it without writing, "
                "and approving with 'without <ids>' leaves those candidates out.",
            )
        rest = resolve.group("rest")
        exclude: list[int] = []
        without = re.search(r"\b(?:without|except|excluding|but\s+not|minus)\b(?P<ids>.+)$", rest, re.I)
        if without:
            exclude = _ids(without.group("ids"))
            rest = rest[: without.start()]
        thread = re.search(_THREAD, rest)
        args: dict[str, Any] = {"decision": "accept" if verb in ("approve", "accept") else "ignore"}
        if thread:
            args["approval_id"] = thread.group("thread")
        else:
            numbers = _ids(rest)
            if not numbers:
                return Intent(
                    None,
                    note="Say which approval, e.g. 'approve rediscovery:1000:1001' or 'approve job 1001'.",
                )
            args["job_id"] = numbers[0]
        if exclude:
            if args["decision"] != "accept":
                return Intent(None, note="'without' only applies when approving.")
            args["exclude_person_ids"] = exclude
        return Intent("resolve_approval", args)

    if re.search(r"\b(?:pending|approvals?|inbox|awaiting|to approve|waiting)\b", lower) and not re.search(
        r"\b(?:rediscover|outreach|explain)\b", lower
    ):
        job = re.search(r"\b(?:job|req(?:uisition)?)\s*#?(\d+)", message, re.I)
        return Intent("list_approvals", {"job_id": int(job.group(1))} if job else {})

    if re.search(r"\b(?:outreach|draft|message|email|reach out|write to)\b", lower):
        person_id, job_id = _person_and_job(message)
        if person_id is None or job_id is None:
            return Intent(None, note="Give a candidate and a job, e.g. 'draft outreach to 12 for job 1001'.")
        return Intent("draft_outreach", {"person_id": person_id, "job_id": job_id})

    if re.search(r"\b(?:explain|why|score|scores|scored|fit|match)\b", lower) and len(_ids(message)) >= 2:
        person_id, job_id = _person_and_job(message)
        if person_id is not None and job_id is not None:
            return Intent("explain_score", {"person_id": person_id, "job_id": job_id})

    if re.search(r"\b(?:rediscover\w*|shortlist|re-discover\w*)\b", lower):
        numbers = _ids(message)
        if not numbers:
            return Intent(None, note="Say which job, e.g. 'rediscover job 1001'.")
        top = re.search(r"\btop\s*(\d+)\b", lower)
        job_candidates = [n for n in numbers if not top or n != int(top.group(1))] or numbers
        args = {"job_id": job_candidates[0]}
        if top:
            args["top_k"] = max(1, min(50, int(top.group(1))))
        return Intent("start_rediscovery", args)

    if re.search(r"\bexplain\b", lower):
        return Intent(None, note="Give a candidate and a job, e.g. 'explain candidate 12 for job 1001'.")

    search = _SEARCH_VERBS.match(message)
    if search:
        return _parse_search(search.group("rest"))
    return Intent(None)

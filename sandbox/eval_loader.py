"""Load the dev evaluation split (../shared/data/eval) into a sandbox tenant at run time.

The resume and posting texts are third-party material for internal evaluation only: they are read
from the shared folder when the sandbox starts and live only in memory, never in this repository.
Each pool resume becomes a person with generated name and contacts and a TXT resume holding the
resume text verbatim; each primary query becomes an open job with the posting title and text.
Labels (`category`, `soc_labels.jsonl`, qrels) are never read, so nothing served hints at them.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.resumes import TXT_TYPE
from sandbox.seed import (
    ADDRESS_HOME,
    CITIES,
    COUNTRY_US,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    FOLDER_UNREVIEWED,
    JOB_APPROVED,
    LAST_NAMES,
    LIST_NODES,
    MALE_NAMES,
    PHONE_MOBILE,
    POSITION_TYPES,
    STATE_NODES,
    STREET_SUFFIXES,
    STREETS,
    YEARS_OF_HISTORY,
)
from sandbox.store import Binary, Tenant
from tools.icims.formats import format_date
from tools.reference import tech_matcher
from tools.settings import DEFAULT_FIELD_MAP

F = DEFAULT_FIELD_MAP
ENTRY_KEY = "entries"
SKILLS_PER_JOB = 10


@dataclass(frozen=True)
class EvalLoad:
    """Which tenant record holds which evaluation item (for scoring runs against the qrels)."""

    people: dict[str, int] = field(default_factory=dict)  # candidate_id -> person id
    jobs: dict[str, int] = field(default_factory=dict)  # query_id -> job id


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds() // 60)
    return (start + timedelta(minutes=rng.randrange(max(1, span)))).replace(second=0, microsecond=0)


def load_eval_records(tenant: Tenant, path: Path | str, *, seed: int, now: datetime) -> EvalLoad:
    """Add the split's resumes as people and its primary queries as jobs; deterministic per seed."""
    folder = Path(path)
    pool_file, query_file = folder / "pool.jsonl", folder / "queries.jsonl"
    if not pool_file.is_file():
        return EvalLoad()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    limit = (now - timedelta(hours=1, minutes=1)).astimezone(UTC).replace(second=0, microsecond=0)
    start = limit - timedelta(days=365 * YEARS_OF_HISTORY)
    rng = random.Random(f"eval:{seed}")
    for item in LIST_NODES:
        tenant.list_nodes.setdefault(item["id"], item["value"])
    emails = {str(r.data.get("email", "")).lower() for r in tenant.records["people"].values()}
    entry = max(tenant.next_id.get(ENTRY_KEY, 100_001), 100_001)

    people: list[tuple[datetime, str, dict[str, Any], str]] = []
    for row in _read_jsonl(pool_file):
        text = str(row.get("text") or "")
        if not text.strip():
            continue
        female = rng.random() < 0.5
        names = FEMALE_NAMES if female else MALE_NAMES
        first, last = names[rng.randrange(len(names))], LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        local = f"{first}.{re.sub(r'[^a-z]', '', last.lower())}".lower()
        domain = EMAIL_DOMAINS[rng.randrange(len(EMAIL_DOMAINS))]
        email, n = f"{local}@{domain}", 2
        while email in emails:
            email, n = f"{local}{n}@{domain}", n + 1
        emails.add(email)
        city = CITIES[rng.randrange(len(CITIES))]
        created = _between(rng, start, limit)
        street = f"{rng.randrange(100, 9900)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}"
        data: dict[str, Any] = {
            "firstname": first,
            "lastname": last,
            "email": email,
            "folder": FOLDER_UNREVIEWED,
            "addresses": [
                {
                    "entry": 0,
                    "addressstreet1": street,
                    "addresscity": city.name,
                    "addressstate": STATE_NODES[city.state],
                    "addresszip": f"{city.zip_base + rng.randrange(20):05d}",
                    "addresscountry": COUNTRY_US,
                    "addresstype": ADDRESS_HOME,
                }
            ],
            "phones": [
                {
                    "entry": 0,
                    "phonenumber": f"({city.area_code}) 555-01{rng.randrange(100):02d}",
                    "phonetype": PHONE_MOBILE,
                }
            ],
            "source": rng.choice(("Career Site", "Indeed", "LinkedIn", "Employee Referral")),
            # Evaluation people must be reachable by every agent, so consent is never a blocker.
            F["consent_status"]: "Granted",
            F["consent_expires"]: format_date((limit + timedelta(days=365)).date()),
            F["opt_out"]: "No",
            F["do_not_contact"]: "No",
        }
        people.append((created, str(row["candidate_id"]), data, text))

    loaded = EvalLoad()
    people.sort(key=lambda p: (p[0], p[1]))
    for created, candidate_id, data, text in people:
        for sub in (*data["addresses"], *data["phones"]):
            sub["entry"] = entry
            entry += 1
        updated = _between(rng, created, limit) if created < limit else created
        person_id = tenant.add("people", data, created=created, updated=updated)
        stem = re.sub(r"[^A-Za-z]+", "_", f"{data['firstname']}_{data['lastname']}")
        key = ("people", person_id, "resume")
        tenant.texts[key] = text
        tenant.binaries[key] = Binary(text.encode("utf-8"), TXT_TYPE, f"{stem}_Resume.txt")
        loaded.people[candidate_id] = person_id
    tenant.next_id[ENTRY_KEY] = entry

    if query_file.is_file():
        jobs: list[tuple[datetime, str, dict[str, Any]]] = []
        matcher = tech_matcher()
        for row in _read_jsonl(query_file):
            title = " ".join(str(row.get("title") or "").split()) or "Open Position"
            description = str(row.get("description") or "")
            created = _between(rng, limit - timedelta(days=60), limit)
            data = {
                "jobtitle": title,
                "folder": JOB_APPROVED,
                "numberofpositions": 1,
                "overview": description,
                "positiontype": POSITION_TYPES["Full-Time"],
                # Derived from the posting text only; left out of must-haves so no agent treats a
                # noisy dictionary match as a hard requirement.
                F["job_nice_to_have_skills"]: "; ".join(
                    matcher.find(f"{title}\n{description}", limit=SKILLS_PER_JOB)
                ),
            }
            jobs.append((created, str(row["query_id"]), data))
        jobs.sort(key=lambda j: (j[0], j[1]))
        for created, query_id, data in jobs:
            job_id = tenant.allocate_id("jobs")
            data = {"jobid": f"{created.year}-{job_id}", **data}
            tenant.add("jobs", data, record_id=job_id, created=created, updated=created)
            loaded.jobs[query_id] = job_id
    return loaded


def load_eval_split(tenant: Tenant, path: Path | str, *, seed: int, now: datetime) -> int:
    """Load the split when `path` exists; returns the number of people added (0 when it is absent)."""
    return len(load_eval_records(tenant, path, seed=seed, now=now).people)

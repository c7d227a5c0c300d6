"""Degrees and certifications named in resume text, job postings and iCIMS education fields."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.models import DegreeLevel

DEGREE_ORDER: tuple[DegreeLevel, ...] = (
    "none",
    "high_school",
    "associate",
    "bachelor",
    "master",
    "doctorate",
)

# Case-sensitive where the abbreviation is also a word or a state ("MS", "MD", "BA"), insensitive elsewhere.
_I = re.IGNORECASE
_DEGREE_PATTERNS: tuple[tuple[DegreeLevel, re.Pattern[str]], ...] = (
    (
        "doctorate",
        re.compile(
            r"\b(?:Ph\.\s?D\b\.?|PhD\b|Doctor\s+of\s+[A-Z][a-z]+|Doctorate\b|Doctoral\s+degree|D\.Phil\b|Ed\.D\b\.?"
            r"|Juris\s+Doctor\b|J\.D\.|M\.D\.|Pharm\.?\s?D\b\.?|DNP\b|Psy\.?D\b\.?)"
        ),
    ),
    (
        "master",
        re.compile(
            r"\b(?:Master'?s?\b(?:\s+(?:of|in|degree))?|MASTER'?S?\b|M\.B\.A\b\.?|MBA\b|M\.S\.|M\.Sc\b\.?|MSc\b"
            r"|M\.A\.|M\.Ed\b\.?|M\.Eng\b\.?|MEng\b|M\.Tech\b|MTech\b|MPH\b|MSN\b|MSW\b|LL\.M\b\.?|MCA\b"
            r"|M\.Com\b|MS\s+(?:in|of)\s+[A-Z]|MA\s+in\s+[A-Z]|graduate\s+degree)"
        ),
    ),
    (
        "bachelor",
        re.compile(
            r"\b(?:Bachelor'?s?\b(?:\s+(?:of|in|degree))?|BACHELOR'?S?\b|Baccalaureate\b|B\.A\.|B\.S\.|B\.Sc\b\.?|BSc\b"
            r"|BSN\b|B\.Tech\b|BTech\b|B\.E\.|BBA\b|B\.B\.A\b\.?|B\.Com\b|BCom\b|BFA\b|B\.F\.A\b\.?"
            r"|BS\s+(?:in|of)\s+[A-Z]|BA\s+(?:in|of)\s+[A-Z]|B\.?S\.?\s*/\s*B\.?A\.?|undergraduate\s+degree"
            r"|four-year\s+degree|4-year\s+degree|college\s+degree|university\s+degree)"
        ),
    ),
    (
        "associate",
        re.compile(
            r"\b(?:Associate'?s?\s+(?:of|in|degree)\b|ASSOCIATE'?S?\s+(?:OF|IN|DEGREE)\b|A\.A\.S?\b\.?|AAS\b|A\.S\.(?!\w)"
            r"|Associate\s+of\s+Applied\s+Science|two-year\s+degree|2-year\s+degree)"
        ),
    ),
    (
        "high_school",
        re.compile(
            r"\b(?:High\s+School\s+(?:Diploma|Graduate|Degree|Equivalency)|HIGH\s+SCHOOL\s+DIPLOMA|GED\b"
            r"|H\.S\.\s+Diploma|High\s+School\b|HIGH\s+SCHOOL\b|Secondary\s+School\s+Certificate|S\.S\.C\b|H\.S\.C\b)",
        ),
    ),
)
# Fields of study: what follows "in"/"of" or a comma after the degree, up to a separator.
_FIELD_AFTER = re.compile(
    # "Bachelor of Science in X", "B.S. in X", "MBA, X", "Bachelor of Arts, X"
    r"^\s*(?i:degree\s+)?(?i:in|of|,|:|-|–)?\s*(?i:(?:science|arts|applied\s+science|business\s+administration)(?:\s+in\s+|\s*,\s*|\s+-\s+))?"
    r"(?P<field>[A-Z][A-Za-z&/ ]{2,60}?)"
    r"(?=\s*(?:[,|;()\n]|\s-\s|\s–\s|\bfrom\b|\bat\b|\b(?:19|20)\d{2}\b|$))",
)
_BAD_FIELDS = frozenset({"science", "arts", "degree", "the", "and", "applied science", "education details"})


@dataclass(frozen=True, slots=True)
class DegreeHit:
    level: DegreeLevel
    start: int
    end: int
    field: str | None


def find_degrees(text: str, *, in_education_section: bool = True) -> list[DegreeHit]:
    """Degrees in `text`. A bare "High School" only counts inside an education section (elsewhere it is
    usually a workplace: "taught at Lincoln High School")."""
    hits: list[DegreeHit] = []
    taken: list[tuple[int, int]] = []
    for level, pattern in _DEGREE_PATTERNS:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if (
                level == "high_school"
                and not in_education_section
                and not re.search(r"diploma|graduate|ged|equivalen|certificate", m.group(), _I)
            ):
                continue
            field = _field_after(text, m.end()) if level not in ("high_school", "none") else None
            hits.append(DegreeHit(level, m.start(), m.end(), field))
            taken.append((m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits


def _field_after(text: str, pos: int) -> str | None:
    line_end = text.find("\n", pos)
    segment = text[pos : line_end if line_end >= 0 else len(text)]
    m = _FIELD_AFTER.match(segment)
    if not m:
        return None
    field = m.group("field").strip(" &/")
    if field.casefold() in _BAD_FIELDS or len(field) < 3:
        return None
    return field


def degree_level(text: str | None) -> DegreeLevel | None:
    """Level of a degree name as written in an iCIMS education field ("Bachelor of Science")."""
    if not text:
        return None
    hits = find_degrees(text)
    if hits:
        return max((h.level for h in hits), key=DEGREE_ORDER.index)
    t = text.casefold()
    if "diploma" in t:
        return "high_school"
    return None


def level_at_least(have: DegreeLevel | None, need: DegreeLevel) -> bool:
    return have is not None and DEGREE_ORDER.index(have) >= DEGREE_ORDER.index(need)


# ---------------------------------------------------------------- certifications

# Canonical certification name -> pattern. A compact list of credentials recruiters ask for most, written
# for this project; case-sensitive for the acronyms (a "cna" is not a CNA in lower-cased prose).
CERTIFICATIONS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, flags)
    for name, pattern, flags in (
        ("PMP", r"\bPMP\b|Project\s+Management\s+Professional", 0),
        ("CAPM", r"\bCAPM\b", 0),
        ("CPA", r"\bCPA\b|Certified\s+Public\s+Accountant", 0),
        ("CMA", r"\bCMA\b|Certified\s+Management\s+Accountant", 0),
        ("CFA", r"\bCFA\b|Chartered\s+Financial\s+Analyst", 0),
        ("CFP", r"\bCFP\b|Certified\s+Financial\s+Planner", 0),
        ("Enrolled Agent", r"\bEnrolled\s+Agent\b", 0),
        ("CIA", r"Certified\s+Internal\s+Auditor", 0),
        ("CISA", r"\bCISA\b", 0),
        ("CISM", r"\bCISM\b", 0),
        ("CISSP", r"\bCISSP\b", 0),
        ("CEH", r"\bCEH\b|Certified\s+Ethical\s+Hacker", 0),
        ("CompTIA A+", r"\bCompTIA\s+A\+|\bA\+\s+[Cc]ertifi", 0),
        ("CompTIA Network+", r"\bNetwork\+", 0),
        ("CompTIA Security+", r"\bSecurity\+", 0),
        ("CCNA", r"\bCCNA\b", 0),
        ("CCNP", r"\bCCNP\b", 0),
        ("AWS Certified", r"\bAWS\s+Certified(?:\s+[A-Z][\w-]*){0,4}", 0),
        (
            "Microsoft Certified",
            r"\bMicrosoft\s+Certified(?:\s+[A-Z][\w:-]*){0,4}|\bMCSE\b|\bMCSA\b|\bMCP\b",
            0,
        ),
        ("Google Cloud Certified", r"\bGoogle\s+Cloud\s+Certified(?:\s+[A-Z][\w-]*){0,3}", 0),
        ("Salesforce Certified", r"\bSalesforce\s+Certified(?:\s+[A-Z][\w-]*){0,3}", 0),
        ("Oracle Certified", r"\bOracle\s+Certified(?:\s+[A-Z][\w-]*){0,3}|\bOCP\b|\bOCA\b", 0),
        ("Certified Kubernetes", r"\bCKA\b|\bCKAD\b|Certified\s+Kubernetes", 0),
        ("ITIL", r"\bITIL\b", 0),
        ("Six Sigma", r"\bSix\s+Sigma(?:\s+(?:Green|Black|Yellow)\s+Belt)?|\bLean\s+Six\s+Sigma", _I),
        ("Certified ScrumMaster", r"\bCSM\b|Certified\s+Scrum\s*Master|\bPSM\s?I*\b", 0),
        ("PHR", r"\bPHR\b|Professional\s+in\s+Human\s+Resources", 0),
        ("SPHR", r"\bSPHR\b", 0),
        ("SHRM-CP", r"\bSHRM-CP\b", 0),
        ("SHRM-SCP", r"\bSHRM-SCP\b", 0),
        ("RN license", r"\bRN\s+[Ll]icen[sc]e|[Rr]egistered\s+[Nn]urse\s+[Ll]icen[sc]e|\bNCLEX(?:-RN)?\b", 0),
        ("LPN license", r"\bLPN\b|\bLVN\b|Licensed\s+(?:Practical|Vocational)\s+Nurse", 0),
        ("CNA", r"\bCNA\b|Certified\s+Nursing\s+Assistant", 0),
        ("BLS", r"\bBLS\b|Basic\s+Life\s+Support", 0),
        ("ACLS", r"\bACLS\b|Advanced\s+Cardi(?:ac|ovascular)\s+Life\s+Support", 0),
        ("PALS", r"\bPALS\b|Pediatric\s+Advanced\s+Life\s+Support", 0),
        ("CPR", r"\bCPR\b", 0),
        ("First Aid", r"\bFirst\s+Aid\b", _I),
        ("EMT", r"\bEMT(?:-B|-P)?\b|Emergency\s+Medical\s+Technician", 0),
        ("Phlebotomy certification", r"Certified\s+Phlebotom|Phlebotomy\s+[Cc]ertifi|\bCPT-1\b", 0),
        ("CPC", r"\bCPC\b|Certified\s+Professional\s+Coder", 0),
        ("RHIA", r"\bRHIA\b|\bRHIT\b", 0),
        ("Pharmacy Technician certification", r"\bCPhT\b|Certified\s+Pharmacy\s+Technician", 0),
        ("CDL", r"\bCDL\b(?:[\s-]+(?:Class\s+)?[ABC]\b)?|Commercial\s+Driver'?s?\s+License", 0),
        ("ServSafe", r"\bServ[Ss]afe\b", 0),
        ("Food Handler", r"[Ff]ood\s+[Hh]andler'?s?\s+(?:[Cc]ard|[Cc]ertifi|[Pp]ermit|[Ll]icen)", 0),
        ("OSHA 10/30", r"\bOSHA[\s-]*(?:10|30)\b|\bOSHA\s+(?:[Cc]ertifi|[Tt]rain)", 0),
        ("Forklift certification", r"[Ff]orklift\s+(?:[Cc]ertifi|[Ll]icen|[Oo]perator\s+[Cc]ertifi)", 0),
        ("EPA 608", r"\bEPA\s+(?:Section\s+)?608\b|\bEPA\s+[Cc]ertifi", 0),
        ("NASM", r"\bNASM\b", 0),
        ("ACE certification", r"\bACE[\s-]+(?:[Cc]ertified|CPT|[Pp]ersonal\s+[Tt]rainer)", 0),
        ("Series 7", r"\bSeries\s+7\b", 0),
        ("Series 63/65/66", r"\bSeries\s+6[356]\b", 0),
        ("Real estate license", r"[Rr]eal\s+[Ee]state\s+(?:[Ss]alesperson\s+)?[Ll]icen[sc]e", 0),
        (
            "Insurance license",
            r"(?:[Ll]ife|[Hh]ealth|[Pp]roperty|[Cc]asualty|P&C|[Ii]nsurance)\s+[Ll]icen[sc]e",
            0,
        ),
        ("Teaching certificate", r"[Tt]eaching\s+(?:[Cc]ertificat|[Cc]redential|[Ll]icen[sc]e)", 0),
        ("Notary Public", r"\bNotary\s+Public\b", _I),
        ("LEED AP", r"\bLEED\s+(?:AP|Green\s+Associate)\b", 0),
        ("PE license", r"\bP\.E\.(?!\w)|Professional\s+Engineer\s+(?:[Ll]icen|\(PE\))|\bPE\s+[Ll]icen", 0),
        ("EIT", r"\bEIT\b|Engineer[\s-]+in[\s-]+Training", 0),
        ("CSCP", r"\bCSCP\b|\bCPIM\b|\bAPICS\b", 0),
        ("CPP", r"\bCertified\s+Payroll\s+Professional|\bFPC\b", 0),
        (
            "Bar admission",
            r"[Aa]dmitted\s+to\s+(?:the\s+)?(?:[A-Z][a-z]+\s+)*[Bb]ar\b|\bState\s+Bar\s+of\b",
            0,
        ),
        ("Paralegal certificate", r"[Pp]aralegal\s+[Cc]ertificat", 0),
    )
}


# Regex syntax that looks like words in the patterns above (\b, \s, character classes).
_PATTERN_NOISE = frozenset({"b", "s", "w", "d", "cc", "ll", "oo", "ss", "pp", "tt", "ii"})


@dataclass(frozen=True, slots=True)
class CertHit:
    name: str
    start: int
    end: int


# Substrings one of which must appear (lower case) before a certification's pattern is tried: scanning
# every resume with ~65 patterns is the slowest part of enrichment otherwise. Taken from the literal
# letters of each pattern, so they are necessary (a pattern cannot match without one of them).
_TRIGGERS: dict[str, tuple[str, ...]] = {
    name: tuple(
        sorted(
            {
                w.casefold()
                for w in re.findall(r"[A-Za-z]{2,}|\d{1,3}", re.sub(r"\\[A-Za-z]", " ", pattern.pattern))
            }
            - _PATTERN_NOISE
        )
    )
    for name, pattern in CERTIFICATIONS.items()
}


def find_certifications(text: str) -> list[CertHit]:
    """First mention of each known certification, in text order."""
    lowered = text.casefold()
    hits: list[CertHit] = []
    for name, pattern in CERTIFICATIONS.items():
        if not any(trigger in lowered for trigger in _TRIGGERS[name]):
            continue
        m = pattern.search(text)
        if m is not None:
            hits.append(CertHit(name, m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits


def canonical_certification(name: str) -> str | None:
    """Our name for a certification as a recruiter typed it ("PMP certification" -> "PMP")."""
    for canonical, pattern in CERTIFICATIONS.items():
        if canonical.casefold() == name.strip().casefold() or pattern.search(name):
            return canonical
    return None

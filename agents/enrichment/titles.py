"""Job titles -> O*NET-SOC occupations, seniority tiers, and how related two occupations are.

The lookup follows the recipe the eval labels were made with (see the eval README): normalise the title
(lower case, expand abbreviations such as HR/IT/VP/RN, singularise, strip seniority and level words,
"director of X" -> "X director"), look it up among O*NET occupation and alternate titles, then try title
segments, then the head noun. Generic titles ("Manager", "Consultant") stay unknown on purpose.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from agents.models import Seniority
from tools.reference import normalise_title, occupations, tech_skills, title_index, titles, wages

# Word-level expansions applied to both the index and the query, so either spelling meets the other.
_ABBREVIATIONS: dict[str, str] = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "mgr": "manager",
    "mngr": "manager",
    "asst": "assistant",
    "assoc": "associate",
    "hr": "human resources",
    "it": "information technology",
    "vp": "vice president",
    "svp": "senior vice president",
    "evp": "executive vice president",
    "avp": "assistant vice president",
    "ceo": "chief executive officer",
    "cfo": "chief financial officer",
    "coo": "chief operating officer",
    "cto": "chief technology officer",
    "cio": "chief information officer",
    "cmo": "chief marketing officer",
    "rn": "registered nurse",
    "lpn": "licensed practical nurse",
    "lvn": "licensed vocational nurse",
    "cna": "certified nursing assistant",
    "np": "nurse practitioner",
    "qa": "quality assurance",
    "qc": "quality control",
    "dev": "developer",
    "eng": "engineer",
    "engr": "engineer",
    "coord": "coordinator",
    "rep": "representative",
    "exec": "executive",
    "dir": "director",
    "supv": "supervisor",
    "supvr": "supervisor",
    "spec": "specialist",
    "ops": "operations",
    "mktg": "marketing",
    "acct": "accountant",
    "csr": "customer service representative",
    "gm": "general manager",
    "ap": "accounts payable",
    "ar": "accounts receivable",
    "sw": "software",
    "swe": "software engineer",
    "sde": "software development engineer",
    "cpa": "certified public accountant",
}
# "admin" means "administrator" at the end of a title and "administrative" before a noun.
_ADMIN_TAIL = "administrator"
_ADMIN_HEAD = "administrative"


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Level words that say how senior, not which occupation.
_LEVEL_WORDS = _word_set(
    """senior junior lead principal entry level trainee intern internship apprentice experienced i ii iii
    iv v vi 1 2 3 4 5 remote hybrid onsite part full time temporary temp contract freelance seasonal per
    diem prn"""
)
# Head nouns too generic to name an occupation on their own.
_GENERIC_HEADS = _word_set(
    """manager consultant specialist assistant associate coordinator analyst director officer administrator
    representative supervisor executive lead member intern professional agent advisor adviser partner
    owner worker technician engineer clerk operator summary resume staff employee contractor volunteer
    leader head president founder generalist expert team"""
)
# Plural-looking words that are not plurals.
_NOT_PLURAL = _word_set(
    """sales logistics operations analytics services relations affairs resources communications news
    systems economics mathematics physics electronics series business process access class gas address
    press status"""
)


# Common titles O*NET lacks or files under a rare occupation first: title -> O*NET-SOC code (ours).
EXTRA_TITLES: dict[str, str] = {
    "data analyst": "15-2051.01",
    "business intelligence analyst": "15-2051.01",
    "machine learning engineer": "15-2051.00",
    "ai engineer": "15-2051.00",
    "devops engineer": "15-1299.08",
    "cloud engineer": "15-1299.08",
    "cloud architect": "15-1299.08",
    "site reliability engineer": "15-1244.00",
    "front end developer": "15-1254.00",
    "frontend developer": "15-1254.00",
    "ui developer": "15-1254.00",
    "back end developer": "15-1252.00",
    "backend engineer": "15-1252.00",
    "back end engineer": "15-1252.00",
    "frontend engineer": "15-1254.00",
    "front end engineer": "15-1254.00",
    "full stack engineer": "15-1252.00",
    "platform engineer": "15-1299.08",
    "infrastructure engineer": "15-1299.08",
    "backend developer": "15-1252.00",
    "full stack developer": "15-1252.00",
    "fullstack developer": "15-1252.00",
    "python developer": "15-1252.00",
    "net developer": "15-1252.00",
    "mobile developer": "15-1252.00",
    "ios developer": "15-1252.00",
    "android developer": "15-1252.00",
    "qa engineer": "15-1253.00",
    "qa analyst": "15-1253.00",
    "test engineer": "15-1253.00",
    "software tester": "15-1253.00",
    "automation tester": "15-1253.00",
    "test analyst": "15-1253.00",
    "network engineer": "15-1241.00",
    "help desk": "15-1232.00",
    "help desk technician": "15-1232.00",
    "help desk analyst": "15-1232.00",
    "technical support": "15-1232.00",
    "technical support specialist": "15-1232.00",
    "technical support engineer": "15-1232.00",
    "ux designer": "15-1255.00",
    "ui designer": "15-1255.00",
    "ux ui designer": "15-1255.00",
    "ui ux designer": "15-1255.00",
    "user experience designer": "15-1255.00",
    "content writer": "27-3043.00",
    "social media manager": "11-2021.00",
    "digital marketing manager": "11-2021.00",
    "social media specialist": "13-1161.00",
    "digital marketing specialist": "13-1161.00",
    "bookkeeper": "43-3031.00",
    "customer service specialist": "43-4051.00",
    "customer service professional": "43-4051.00",
    "customer service agent": "43-4051.00",
    "customer service associate": "43-4051.00",
    "customer support specialist": "43-4051.00",
    "customer care representative": "43-4051.00",
    "teacher": "25-2021.00",
    "administrative assistant": "43-6014.00",
    "program manager": "13-1082.00",
    "business development manager": "11-2021.00",
    "business development director": "11-2021.00",
    "project manager": "13-1082.00",
}
# "<area> manager/director/head/vice president" when the full title is not listed: area -> code.
_MANAGER_AREAS: dict[str, str] = {
    "finance": "11-3031.00",
    "financial": "11-3031.00",
    "accounting": "11-3031.00",
    "credit": "11-3031.00",
    "tax": "11-3031.00",
    "branch": "11-3031.00",
    "sales": "11-2022.00",
    "marketing": "11-2021.00",
    "brand": "11-2021.00",
    "product": "11-2021.00",
    "business development": "11-2021.00",
    "human resources": "11-3121.00",
    "people": "11-3121.00",
    "talent": "11-3121.00",
    "operations": "11-1021.00",
    "information technology": "11-3021.00",
    "technology": "11-3021.00",
    "software": "11-3021.00",
    "engineering": "11-9041.00",
    "construction": "11-9021.00",
    "nursing": "11-9111.00",
    "clinical": "11-9111.00",
    "medical": "11-9111.00",
    "practice": "11-9111.00",
    "food service": "11-9051.00",
    "restaurant": "11-9051.00",
    "kitchen": "11-9051.00",
    "purchasing": "11-3061.00",
    "procurement": "11-3061.00",
    "training": "11-3131.00",
    "learning": "11-3131.00",
    "public relations": "11-2032.00",
    "communications": "11-2032.00",
    "fundraising": "11-2033.00",
    "compensation": "11-3111.00",
    "benefits": "11-3111.00",
    "facilities": "11-3013.00",
    "logistics": "11-3071.00",
    "supply chain": "11-3071.00",
    "transportation": "11-3071.00",
    "distribution": "11-3071.00",
    "warehouse": "11-3071.00",
    "project": "13-1082.00",
    "program": "13-1082.00",
    "office": "43-1011.00",
    "store": "41-1011.00",
    "retail": "41-1011.00",
    "property": "11-9141.00",
    "hotel": "11-9081.00",
    "quality": "11-3051.01",
    "production": "11-3051.00",
    "plant": "11-3051.00",
    "manufacturing": "11-3051.00",
    "security": "11-3013.01",
    "research": "11-9121.00",
}
_MANAGER_HEADS = ("manager", "director", "head", "vice president", "executive director")


def _singular(word: str) -> str:
    if word in _NOT_PLURAL or len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"\([^)]*\)", " ", text)
    raw = re.findall(r"[\w+#]+", text)
    out: list[str] = []
    for k, word in enumerate(raw):
        if word == "admin":
            out.append(_ADMIN_TAIL if k == len(raw) - 1 else _ADMIN_HEAD)
        else:
            out.extend(_ABBREVIATIONS.get(word, word).split())
    return out


def title_key(title: str) -> str:
    """Normalised lookup key: lower case, abbreviations expanded, parentheses dropped, head noun singular."""
    words = _words(title)
    if words:
        words[-1] = _singular(words[-1])
    return " ".join(words)


def _strip_level(words: list[str]) -> list[str]:
    kept = [w for w in words if w not in _LEVEL_WORDS]
    return kept or words


@dataclass(frozen=True, slots=True)
class TitleMatch:
    code: str
    title: str  # the occupation title
    confidence: float
    method: str  # exact, level-stripped, reordered, segment, head-noun


def _employment(code: str) -> int:
    wage = wages(code)
    return wage.employment or 0 if wage else 0


@cache
def _index() -> dict[str, tuple[int, str]]:
    """title key -> (rank, code); rank 0 = the occupation's own title, then its alternates by commonness.

    Alternate-title ranks are per occupation, so among occupations sharing a title the one employing
    more people wins a tie ("Teacher" is more often an elementary than a preschool teacher)."""
    index: dict[str, tuple[int, str]] = {}
    order: dict[str, tuple[int, int, str]] = {}

    def add(key: str, rank: int, code: str) -> None:
        if not key:
            return
        candidate = (rank, -_employment(code), code)
        if key not in order or candidate < order[key]:
            order[key] = candidate
            index[key] = (rank, code)

    for title, code in EXTRA_TITLES.items():
        add(title_key(title), -1, code)

    for code, occupation in occupations().items():
        title = re.split(r",\s*(?:except|all other)\b", occupation.title, flags=re.IGNORECASE)[0]
        add(title_key(title), 0, code)
        # "Accountants and Auditors" also answers to "accountant" and "auditor".
        parts = [p.strip() for p in re.split(r",?\s+and\s+|,\s*", title)]
        if len(parts) > 1 and all(p.endswith("s") and len(p.split()) <= 3 for p in parts if p):
            for part in parts:
                add(title_key(part), 1, code)
    for code, values in titles().items():
        for rank, title in enumerate(values, start=1):
            add(title_key(title), rank, code)
            # The bracket often spells the abbreviation out: "Oncology RN (Oncology Registered Nurse)".
            for inner in re.findall(r"\(([^)]*)\)", title):
                if len(inner.split()) >= 2:
                    add(title_key(inner), rank, code)
    return index


def _lookup(words: list[str]) -> tuple[int, str] | None:
    if not words:
        return None
    words = [*words[:-1], _singular(words[-1])]
    return _index().get(" ".join(words))


def _variants(words: list[str]) -> list[tuple[list[str], str, float]]:
    out: list[tuple[list[str], str, float]] = [(words, "exact", 1.0)]
    stripped = _strip_level(words)
    if stripped != words:
        out.append((stripped, "level-stripped", 0.95))
    # "director of finance" -> "finance director"; "manager, operations" arrives as segments.
    for base in (words, stripped):
        if "of" in base[1:-1]:
            k = base.index("of")
            out.append(([*base[k + 1 :], *base[:k]], "reordered", 0.9))
        if "for" in base[1:-1]:
            k = base.index("for")
            out.append(([*base[k + 1 :], *base[:k]], "reordered", 0.85))
    return out


def _manager_area(words: list[str]) -> str | None:
    text = " ".join(words)
    for head in _MANAGER_HEADS:
        if text.endswith(" " + head):
            area = text[: -len(head) - 1]
        elif text.startswith(head + " of "):
            area = text[len(head) + 4 :]
        elif text.startswith(head + " "):  # "Director, Human Resources"
            area = text[len(head) + 1 :]
        else:
            continue
        area = area.removeprefix("the ").strip()
        for key in (area, area.split()[-1] if area else ""):
            if key in _MANAGER_AREAS:
                return _MANAGER_AREAS[key]
    return None


_SEGMENT_SPLIT = re.compile(r"\s+[-–—|]\s+|\s*[,/|;]\s*|\s+at\s+|\s*\(\s*|\)\s*", re.IGNORECASE)


def map_title(title: str | None) -> TitleMatch | None:
    """The O*NET-SOC occupation a job title names, or None when it is too generic or unknown."""
    if not title or not title.strip():
        return None
    occ = occupations()
    full = _words(title)
    if not full or len(full) > 14:
        return None

    def found(hit: tuple[int, str], method: str, confidence: float) -> TitleMatch:
        return TitleMatch(hit[1], occ[hit[1]].title, round(confidence, 3), method)

    if len(full) == 1 and _singular(full[0]) in _GENERIC_HEADS:
        return None  # "Manager", "Consultant": no occupation
    for words, method, confidence in _variants(full):
        hit = _lookup(words)
        if hit is not None:
            return found(hit, method, confidence)
    # The packaged title index keys titles with their brackets ("registered nurse rn"); try it as is.
    listed = title_index().get(normalise_title(title))
    if listed:
        best = max(listed, key=_employment)
        return found((0, best), "title-index", 0.95)
    area = _manager_area(_strip_level(full))
    if area is not None:
        return found((0, area), "area-manager", 0.8)
    segments = [s for s in _SEGMENT_SPLIT.split(title) if s and s.strip()]
    if len(segments) > 1:
        for segment in segments:
            seg_words = _words(segment)
            for words, _method, confidence in _variants(seg_words):
                hit = _lookup(words)
                if hit is not None and not (len(words) == 1 and words[0] in _GENERIC_HEADS):
                    return found(hit, "segment", 0.85 * confidence)
    # Head noun: drop leading modifiers one at a time ("bilingual domestic violence advocate" -> "advocate").
    for segment in segments or [title]:
        words = _strip_level(_words(segment))
        for n in range(len(words) - 1, 0, -1):
            tail = words[len(words) - n :]
            if n == 1 and _singular(tail[0]) in _GENERIC_HEADS:
                break
            hit = _lookup(tail)
            if hit is not None:
                return found(hit, "head-noun", 0.75 if n > 1 else 0.65)
    return None


# ---------------------------------------------------------------- seniority

_TIER_PATTERNS: tuple[tuple[Seniority, re.Pattern[str]], ...] = (
    (
        "executive",
        re.compile(
            r"\b(?:chief|ceo|cfo|coo|cto|cio|cmo|president|vice[\s-]+president|s?vp|evp|avp|head\s+of|"
            r"director|managing\s+partner|founder|co-founder|owner)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "lead",
        re.compile(
            r"\b(?:lead|principal|staff\s+(?:engineer|developer|scientist)|manager|mgr|supervisor|"
            r"superintendent|team\s+leader|foreman|architect)\b",
            re.IGNORECASE,
        ),
    ),
    ("senior", re.compile(r"\b(?:senior|sr\.?|snr|experienced|iii|iv)(?=\s|$|,|\.)", re.IGNORECASE)),
    (
        "entry",
        re.compile(
            r"\b(?:junior|jr\.?|entry[\s-]+level|trainee|intern(?:ship)?|apprentice|graduate|assistant|"
            r"aide|helper|student)\b",
            re.IGNORECASE,
        ),
    ),
)
TIER_ORDER: tuple[Seniority, ...] = ("entry", "mid", "senior", "lead", "executive")


def tier_from_title(title: str) -> tuple[Seniority, int, int] | None:
    """The seniority a title states and the span of the word that says so."""
    for tier, pattern in _TIER_PATTERNS:
        m = pattern.search(title)
        if m is not None:
            if tier == "entry" and re.search(r"\bassistant\s+(?:manager|director|principal)", title, re.I):
                return "lead", m.start(), m.end()
            return tier, m.start(), m.end()
    return None


def tier_from_years(years: float) -> Seniority:
    if years < 2:
        return "entry"
    if years < 5:
        return "mid"
    return "senior"


# ---------------------------------------------------------------- relatedness

# Codes whose minor group mixes unrelated work (management, business operations, health diagnosing):
# the eval labels require the broad group there, and so do we.
_HETEROGENEOUS_MINORS = frozenset({"11-3", "11-9", "13-1", "29-1"})


@cache
def _distinctive_tools() -> dict[str, frozenset[str]]:
    """Per occupation, the technologies it lists minus those most occupations list (office suites)."""
    from tools.reference.tables import _tech_skills

    table = _tech_skills()
    counts = Counter(label for values in table.values() for label in {t.label for t in values})
    common = {label for label, n in counts.items() if n > 0.08 * len(table)}
    return {
        code: frozenset(t.label for t in values if t.label not in common) for code, values in table.items()
    }


def tool_overlap(a: str, b: str) -> float:
    tools = _distinctive_tools()
    x, y = tools.get(a, frozenset()), tools.get(b, frozenset())
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def occupation_similarity(a: str | None, b: str | None) -> tuple[float, str]:
    """How close two O*NET-SOC codes are, 0..1, with the relation in words."""
    if not a or not b:
        return 0.0, "unknown occupation"
    if a == b:
        return 1.0, "same occupation"
    if a[:7] == b[:7]:
        return 0.9, "same detailed occupation"
    if a[:6] == b[:6]:
        return 0.75, "same occupation group"
    if a[:4] == b[:4] and a[:4] not in _HETEROGENEOUS_MINORS:
        return 0.55, "same occupation family"
    if tool_overlap(a, b) >= 0.3:
        return 0.45, "related occupation (shared tools)"
    if a[:4] == b[:4]:
        return 0.35, "same broad field"
    if a[:2] == b[:2]:
        return 0.2, "same major group"
    return 0.0, "different occupation"


def tech_labels(code: str | None) -> tuple[str, ...]:
    return tuple(t.label for t in tech_skills(code)) if code else ()

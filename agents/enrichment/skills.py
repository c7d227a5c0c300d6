"""Canonical skills named in free text, with the exact span of every mention.

The vocabulary is the packaged taxonomy (`tools.reference.skills()`): the technologies O*NET lists for
some occupation, ESCO digital skills, and multi-word ESCO transversal skills, plus two small curated
tables defined here: common abbreviations the taxonomy lacks ("JS", "k8s") and everyday domain skills
(accounting, nursing, teaching...) that a technology taxonomy does not cover but requisitions ask for.

`tools.reference.SkillMatcher` answers "which labels", not "where"; evidence needs offsets and case
rules for short names ("R", "Go", "C", "Excel"), so the index is rebuilt here over the same tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from agents.enrichment.text import snippet_evidence
from agents.models import EvidenceSource, SkillMention
from tools.reference import skills as taxonomy
from tools.reference.tables import _tech_skills

# A token: word characters plus + and # (C++, C#), joined across dots (Node.js, ASP.NET), with a leading
# dot allowed (.NET). Hyphens and slashes split tokens so "Python-based" and "C/C++" still match.
_TOKEN = re.compile(r"(?:(?<![\w.])\.)?[\w+#]+(?:\.[\w+#]+)*")
_MAX_TOKENS = 6

# Abbreviations and spellings people write that the taxonomy does not list: alias -> taxonomy label.
EXTRA_ALIASES: dict[str, str] = {
    "JS": "JavaScript",
    "ES6": "JavaScript",
    "ECMAScript": "JavaScript",
    "NodeJS": "Node.js",
    "Node JS": "Node.js",
    "ReactJS": "React",
    "React.js": "React",
    "React JS": "React",
    "AngularJS": "Angular",
    "Vue": "Vue.js",
    "VueJS": "Vue.js",
    "Golang": "Go",
    "k8s": "Kubernetes",
    "Postgre": "PostgreSQL",
    "psql": "PostgreSQL",
    "MSSQL": "SQL Server",
    "MS SQL": "SQL Server",
    "T-SQL": "Transact-SQL",
    "TSQL": "Transact-SQL",
    "sklearn": "Scikit-learn",
    "scikit learn": "Scikit-learn",
    "Mongo": "MongoDB",
    "GCP": "Google Cloud",
    "Google Cloud Platform": "Google Cloud",
    "Amazon AWS": "AWS",
    "PowerBI": "Microsoft Power BI",
    "MS Excel": "Microsoft Excel",
    "MS Word": "Microsoft Word",
    "Word": "Microsoft Word",
    "MS Access": "Microsoft Access",
    "MS Outlook": "Microsoft Outlook",
    "MS PowerPoint": "Microsoft PowerPoint",
    "MS Project": "Microsoft Project",
    "MS Visio": "Microsoft Visio",
    "MS Office": "Microsoft Office",
    "MS-Office": "Microsoft Office",
    "Microsoft Office Suite": "Microsoft Office",
    "Office 365": "Microsoft Office",
    "Microsoft 365": "Microsoft Office",
    "Agile": "Agile development",
    "Agile methodologies": "Agile development",
    "Agile methodology": "Agile development",
    "Scrum": "Agile development",
    ".NET": "Microsoft .NET Framework",
    "dotnet": "Microsoft .NET Framework",
    "Epic": "Epic Systems",
    "Epic EMR": "Epic Systems",
    "Epic EHR": "Epic Systems",
    "Meditech": "MEDITECH software",
    "Salesforce": "Salesforce software",
    "Salesforce.com": "Salesforce software",
    "Workday": "Workday software",
    "Terraform": "IBM Terraform",
    "Shell scripting": "Shell script",
    "Rust": "Rust programming language",
    "Hadoop MapReduce": "Hadoop",
    "Jenkins": "Jenkins CI",
}

# Everyday skills outside the technology taxonomy: label -> aliases. Written for this project.
DOMAIN_SKILLS: dict[str, tuple[str, ...]] = {
    "accounts payable": ("AP processing", "accounts payable processing"),
    "accounts receivable": ("AR collections", "accounts receivable management"),
    "general ledger": ("GL reconciliation", "general ledger accounting", "journal entries"),
    "GAAP": ("generally accepted accounting principles", "US GAAP"),
    "financial reporting": ("financial statements", "financial statement preparation"),
    "budgeting": ("budget management", "budget preparation", "budget planning", "budgets"),
    "forecasting": ("financial forecasting", "forecasts"),
    "financial analysis": ("financial modeling", "financial modelling", "variance analysis"),
    "auditing": ("internal audit", "external audit", "audits", "internal audits"),
    "tax preparation": ("tax returns", "income tax", "tax return preparation"),
    "payroll": ("payroll processing", "payroll administration"),
    "bookkeeping": ("bookkeeper duties",),
    "account reconciliation": ("bank reconciliation", "bank reconciliations", "reconciliations"),
    "recruiting": ("recruitment", "talent acquisition", "full-cycle recruiting", "full cycle recruiting"),
    "onboarding": ("new hire orientation", "employee onboarding"),
    "employee relations": ("labor relations",),
    "benefits administration": ("benefits enrollment", "employee benefits"),
    "performance management": ("performance reviews", "performance appraisals"),
    "customer service": ("customer support", "client service", "customer care"),
    "sales": ("inside sales", "outside sales", "B2B sales", "retail sales", "direct sales"),
    "business development": ("new business development",),
    "lead generation": ("prospecting", "cold calling"),
    "account management": ("key account management", "key accounts"),
    "negotiation": ("contract negotiation", "contract negotiations", "negotiating"),
    "digital marketing": ("online marketing", "email marketing", "marketing campaigns"),
    "social media marketing": ("social media management", "social media"),
    "content writing": ("copywriting", "content creation", "copy writing"),
    "public relations": ("media relations", "press releases"),
    "graphic design": ("graphic designer", "visual design"),
    "project management": ("project planning", "managing projects", "project manager"),
    "data analysis": ("data analytics", "analyzing data", "analysing data", "data analyst"),
    "data visualization": ("data visualisation", "dashboards", "dashboarding"),
    "statistics": ("statistical analysis", "statistical modeling", "statistical modelling"),
    "quality assurance": ("QA testing", "quality assurance testing"),
    "quality control": ("QC inspection", "quality inspections"),
    "patient care": ("direct patient care", "bedside care", "patient-centered care"),
    "medication administration": ("administering medications", "administer medications", "medication pass"),
    "vital signs": ("taking vitals", "vitals"),
    "phlebotomy": ("blood draws", "venipuncture"),
    "wound care": ("wound dressing", "wound dressings"),
    "IV therapy": ("IV insertion", "IV starts"),
    "triage": ("patient triage",),
    "care planning": ("care plans", "nursing care plans", "plan of care"),
    "infection control": ("infection prevention",),
    "case management": ("case manager", "caseload"),
    "lesson planning": ("lesson plans", "lesson plan"),
    "classroom management": ("classroom discipline",),
    "curriculum development": ("curriculum design", "curriculum planning"),
    "differentiated instruction": ("differentiated learning",),
    "food preparation": ("food prep", "meal preparation", "prep cook"),
    "menu planning": ("menu development", "menu design", "menu creation"),
    "food safety": ("food handling", "sanitation standards", "food sanitation"),
    "inventory management": ("inventory control", "stock control", "inventory"),
    "supply chain management": ("supply chain",),
    "logistics": ("logistics coordination",),
    "procurement": ("purchasing", "sourcing suppliers"),
    "forklift operation": ("forklift", "forklifts", "pallet jack"),
    "warehouse operations": ("shipping and receiving", "order picking"),
    "blueprint reading": ("reading blueprints", "blueprints", "schematics"),
    "construction management": ("construction projects", "site supervision"),
    "cost estimating": ("estimating", "cost estimation", "cost estimates", "takeoffs"),
    "welding": ("MIG welding", "TIG welding", "arc welding"),
    "HVAC": ("heating ventilation and air conditioning", "HVAC systems"),
    "electrical wiring": ("electrical systems", "wiring"),
    "preventive maintenance": ("preventative maintenance",),
    "troubleshooting": ("troubleshoot", "troubleshot"),
    "team leadership": ("team management", "supervising staff", "staff supervision", "supervised staff"),
    "training and development": ("employee training", "staff training", "training programs"),
    "contract management": ("contract administration",),
    "regulatory compliance": ("compliance",),
    "risk management": ("risk assessment", "risk assessments"),
    "strategic planning": ("strategic plans", "strategy development"),
    "process improvement": ("continuous improvement", "process optimization"),
    "event planning": ("event coordination", "event management"),
    "fundraising": ("fund raising", "donor relations"),
    "community outreach": ("outreach programs",),
    "crisis intervention": ("crisis management",),
    "counseling": ("counselling",),
    "personal training": ("fitness instruction", "fitness training", "personal trainer"),
    "legal research": ("case law research",),
    "litigation": ("litigation support",),
    "merchandising": ("visual merchandising",),
    "cash handling": ("cash register", "cash drawer", "POS transactions"),
    "medical coding": ("ICD-10", "ICD-9", "CPT coding"),
    "medical billing": ("insurance billing", "insurance claims"),
    "data entry": ("data-entry",),
    "administrative support": ("clerical", "office administration", "administrative duties"),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Single-token names that are everyday English words, generic abbreviations or product suffixes: the
# taxonomy lists them (mostly as aliases of vendor products) but in resumes they almost never name a skill.
_STOP = _words(
    """system it computer arts tax etc one usa expert call base email analyze via me total fast less ii iii
    iv v vi partner laws act assembly net source pc pro plus st writer interact fields calm gold fish
    anywhere pm therapist ct premier pack her ice urban le pass she aim hub magic max apps iq stars ex bars
    sc csi cat mars fear es io eva iris axis intersection ross shear blast grass harvest doe ace spe ut ci
    cs lt dl ep ax rs ai ar id md ems sms bi 3d 2d 4d api saas formulas controllers hydraulics sensors
    chips informatics algorithm scripting electronics telecommunication alarms plotter microprocessors
    pneumatics ann case claims reduce impact mix sand tanks sea route square clear fire complete review
    lead set expert studio fit score dispatch com validate thesis index root architect engineer star
    agile cad pos crm erp hr lms emr ehr wms pms ide cms plc gis ats hms dms gms oms fms cps tms
    sis ics hmi ehs rms mes qms cfs mma iep cim mis lan wan cam edc pod adt spc drs dcs ods
    project office teams notes drive sheets docs slides forms meet maps connect"""
)

# Single-token names that need the exact case and a list-like context ("Python, R, SQL"): they are
# letters or ordinary words in prose ("Plan B", "go to market", "head chef").
_CONTEXT_ONLY = _words(
    """r c d e j go swift chef puppet salt unity scratch julia ant make logo basic shell express meteor pig
    oak ada lisp spark hive maven flask dart elm crystal pascal forth prolog mercury groovy alice access
    oracle ruby rust word"""
)
# Exact case suffices for these capitalised product names that are lower-case words otherwise.
_EXACT_CASE = frozenset({"excel", "outlook", "windows", "slack", "zoom", "canvas"})
# Short names safe in any case (some posting sources are lower-cased throughout). Other names of three
# letters or fewer must be written as the taxonomy writes them or in capitals: most are obscure product
# acronyms that collide with words ("act", "elf") or degrees ("DDS").
_SHORT_ANY_CASE = _words(
    """sql aws css php xml git ios sap sas etl vba svn jsp asp lua tcl uml nlp iot ftp dns vpn ssl tls bgp
    db2 ec2 s3 k8s es6 js c# c++ vue gcc awk orm edi plm gps hdl dsp bim cmm sem mdx"""
)


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    # None = case-insensitive; otherwise the exact spellings accepted for a single-token name.
    exact: frozenset[str] | None
    needs_context: bool


@dataclass(frozen=True, slots=True)
class SkillHit:
    label: str
    start: int
    end: int


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().casefold(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _key(name: str) -> tuple[str, ...]:
    return tuple(t for t, _s, _e in tokens(name))


def _acronym(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(name) <= 6


class SkillIndex:
    """Token n-gram index from names (labels and aliases) to canonical labels, with case rules."""

    def __init__(
        self, entries: Iterable[tuple[str, str, Iterable[str]]], *, curated: Iterable[str] = ()
    ) -> None:
        """`entries`: (label, kind, aliases), best source first; earlier entries win on conflicts.
        `curated` aliases were chosen by hand: they keep their label even when another skill lists the
        same word (a taxonomy alias shared by two labels is otherwise dropped as ambiguous)."""
        chosen = {_key(alias) for alias in curated}
        self._index: dict[tuple[str, ...], _Entry] = {}
        self._kinds: dict[str, str] = {}
        self._names: dict[str, list[str]] = {}
        self._labels_cf: dict[str, str] = {}
        self._max = 1
        # First token -> longest name starting with it: most tokens start no name and are skipped at once.
        self._starts: dict[str, int] = {}
        pending: list[tuple[str, str, bool]] = []  # (name, label, is_label)
        alias_labels: dict[tuple[str, ...], set[str]] = {}
        for label, kind, aliases in entries:
            if label in self._kinds:
                continue
            self._kinds[label] = kind
            self._names[label] = [label]
            self._labels_cf.setdefault(label.casefold(), label)
            pending.append((label, label, True))
            for alias in aliases:
                pending.append((alias, label, False))
                alias_labels.setdefault(_key(alias), set()).add(label)
                self._names[label].append(alias)
        # Labels claim their own key first, so "SQL" is SQL even though some product lists "SQL" as alias.
        for name, label, is_label in sorted(pending, key=lambda p: not p[2]):
            key = _key(name)
            if not key or len(key) > _MAX_TOKENS or key in self._index:
                continue
            if len(key) == 1:
                if self._kinds[label] == "transversal":
                    continue  # one-word ESCO transversal names ("plan", "lead") are plain words
                ambiguous = key not in chosen and len(alias_labels.get(key, ())) > 1
                entry = self._single(name, key[0], label, is_label, ambiguous)
                if entry is None:
                    continue
            else:
                entry = _Entry(label, None, False)
            self._index[key] = entry
            self._max = max(self._max, len(key))
            self._starts[key[0]] = max(self._starts.get(key[0], 0), len(key))

    @staticmethod
    def _single(name: str, word: str, label: str, is_label: bool, ambiguous: bool) -> _Entry | None:
        word = word.lstrip(".")
        if word in _STOP or (not is_label and ambiguous):
            return None
        if word in _CONTEXT_ONLY:
            return _Entry(label, frozenset({name}), True)
        if len(word) < 2:
            return None
        if word in _EXACT_CASE or (len(word) <= 3 and word not in _SHORT_ANY_CASE):
            return _Entry(label, frozenset({name, name.upper()}), False)
        if not is_label and _acronym(name) and len(word) <= 5:
            # Product-suffix acronyms ("HRIS", "CMMS") must be written in capitals.
            return _Entry(label, frozenset({name, name.upper()}), False)
        return _Entry(label, None, False)

    def kind(self, label: str) -> str | None:
        return self._kinds.get(label)

    def names(self, label: str) -> tuple[str, ...]:
        return tuple(self._names.get(label, ()))

    def labels(self) -> list[str]:
        return list(self._kinds)

    def canonical(self, name: str) -> str | None:
        """The taxonomy label for a skill name as a recruiter would type it (no case rules)."""
        name = name.strip()
        if not name:
            return None
        direct = self._labels_cf.get(name.casefold())
        if direct is not None:
            return direct
        entry = self._index.get(_key(name))
        if entry is not None:
            return entry.label
        return None

    def find(self, text: str) -> list[SkillHit]:
        """Every mention, in text order; the longest name wins at each position."""
        toks = tokens(text)
        hits: list[SkillHit] = []
        # Per hit: does it need list context, and can it vouch for a neighbour that does (only
        # unambiguous technology names can; "A/P, A/R, Payroll" is no programming list).
        needs_context: list[bool] = []
        vouches: list[bool] = []
        words = [t for t, _s, _e in toks]
        starts = self._starts
        i = 0
        while i < len(toks):
            step = 1
            longest = starts.get(words[i], 0)
            for n in range(min(longest, len(toks) - i), 0, -1):
                key = tuple(words[i : i + n])
                entry = self._index.get(key)
                if entry is None:
                    continue
                start, end = toks[i][1], toks[i + n - 1][2]
                if n > 1 and not _contiguous(text, toks[i : i + n]):
                    continue
                if entry.exact is not None and text[start:end] not in entry.exact:
                    continue
                hits.append(SkillHit(entry.label, start, end))
                needs_context.append(entry.needs_context)
                vouches.append(
                    not entry.needs_context and self._kinds[entry.label] in ("technology", "digital")
                )
                step = n
                break
            i += step
        if not any(needs_context):
            return hits
        keep = [not needs or _in_skill_list(text, hits, vouches, k) for k, needs in enumerate(needs_context)]
        return [h for h, ok in zip(hits, keep, strict=True) if ok]


def _contiguous(text: str, toks: list[tuple[str, int, int]]) -> bool:
    # Names span lines only in broken PDFs; across a newline they are usually two different items.
    return all("\n" not in text[a[2] : b[1]] and b[1] - a[2] <= 3 for a, b in pairwise(toks))


# What may separate two items of a list: a comma or slash (optionally followed by and/or), a bare
# and/or, or brackets ("MS Office (Word, Excel)").
_LIST_GAP = re.compile(
    r"\s*(?:[,;/|&•·]\s*(?:(?:and|or)\s+)?|\s(?:and|or)\s+|\s*\(\s*|\s*\)\s*,?\s*)", re.IGNORECASE
)
_LANGUAGE_CUE = re.compile(r"\s*(?:programming|language|languages|studio|scripts?|code)\b", re.IGNORECASE)


def _in_skill_list(text: str, hits: list[SkillHit], vouches: list[bool], k: int) -> bool:
    """A context-only name ("R", "C", "Go", "Access") counts when it sits in a run of list items
    ("C, C++, Java"; "Python, R and SQL") that holds at least one unambiguous technology, or is followed
    by a cue such as "programming"."""
    hit = hits[k]
    glued_before = hit.start > 0 and text[hit.start - 1] in "/&-"
    glued_after = hit.end < len(text) and text[hit.end] in "/&-"
    # "A/R", "R&D", "C&I", "Go-live": glued to a neighbour that is not itself a skill.
    if glued_before and not (k > 0 and hits[k - 1].end == hit.start - 1):
        return False
    if glued_after and not (k + 1 < len(hits) and hits[k + 1].start == hit.end + 1):
        return False
    if _LANGUAGE_CUE.match(text, hit.end):
        return True
    for direction in (-1, 1):
        j = k
        while 0 <= j + direction < len(hits):
            a, b = (hits[j + direction], hits[j]) if direction < 0 else (hits[j], hits[j + direction])
            if not _LIST_GAP.fullmatch(text, a.end, b.start):
                break
            j += direction
            if vouches[j]:
                return True
    return False


@cache
def skill_index() -> SkillIndex:
    table = taxonomy()
    occupation_tech = {t.label for values in _tech_skills().values() for t in values}

    def rank(label: str) -> int:
        skill = table[label]
        if skill.kind == "technology":
            return 0 if skill.hot else 1
        return 2 if skill.kind == "digital" else 3

    chosen = [
        s
        for s in table.values()
        if (s.kind == "technology" and (s.hot or s.label in occupation_tech)) or s.kind != "technology"
    ]
    chosen.sort(key=lambda s: (rank(s.label), s.label))
    extra: dict[str, list[str]] = {}
    for alias, label in EXTRA_ALIASES.items():
        if label in table:
            extra.setdefault(label, []).append(alias)
    entries: list[tuple[str, str, Iterable[str]]] = []
    for s in chosen:
        # Curated aliases go first so they win over the taxonomy's product-suffix aliases.
        entries.append((s.label, s.kind, (*extra.get(s.label, ()), *s.aliases)))
    for label, aliases in DOMAIN_SKILLS.items():
        entries.append((label, "domain", aliases))
    return SkillIndex(entries, curated=EXTRA_ALIASES)


def canonical_skill(name: str) -> str | None:
    """Taxonomy label for a skill name ("Postgres" -> "PostgreSQL"), None when unknown."""
    return skill_index().canonical(name)


def find_skills(text: str, source: EvidenceSource = "resume") -> list[SkillMention]:
    """One mention per canonical skill (its first), quoting the clause around it."""
    seen: set[str] = set()
    out: list[SkillMention] = []
    for hit in skill_index().find(text):
        if hit.label in seen:
            continue
        seen.add(hit.label)
        out.append(
            SkillMention(
                skill=hit.label,
                matched=text[hit.start : hit.end],
                evidence=snippet_evidence(text, hit.start, hit.end, source),
            )
        )
    return out


def term_pattern(term: str) -> re.Pattern[str] | None:
    """A word-bounded, case-insensitive pattern for a free-text criterion outside the taxonomy
    ("Patient care" also matches "patient-care" and "patient cares")."""
    words = [w for w in re.split(r"[\s\-/]+", term.strip()) if w]
    if not words:
        return None
    body = r"[\s\-/]+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w+#]){body}(?:s|es)?(?![\w+#])", re.IGNORECASE)


def find_term(text: str, term: str, *, hits: list[SkillHit] | None = None) -> SkillHit | None:
    """First mention of `term` in `text`: via the taxonomy (synonyms count) when it is a known skill,
    else as a literal phrase. `hits` = `skill_index().find(text)` when the caller already has it."""
    label = canonical_skill(term)
    if label is not None:
        for hit in skill_index().find(text) if hits is None else hits:
            if hit.label == label:
                return hit
        word = term.strip().casefold()
        if len(word) < 4 or word in _CONTEXT_ONLY or word in _STOP:
            return None  # a literal search for "R" or "Go" would match prose
    pattern = term_pattern(term)
    if pattern is None:
        return None
    m = pattern.search(text)
    if m is None:
        return None
    return SkillHit(label or term, m.start(), m.end())

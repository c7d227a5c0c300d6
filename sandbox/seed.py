"""Deterministic generator of a realistic iCIMS tenant built from the packaged O*NET / BLS tables.

`seed_tenant(tenant, people=N, seed=S, now=T)` always produces the same records, ids, timestamps,
resume texts and files for the same (N, S, T). All randomness comes from one `random.Random(seed)`
(plus per-person generators derived from the seed for lazily rendered resumes).

Shapes follow docs/RECORDS.md. Nested read-only values (list nodes, `{value}` nodes, shared
description strings) are shared between records to keep 100k people in a few hundred MB; the store
replaces fields rather than mutating them, so sharing is safe as long as nobody edits them in place.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sandbox.resumes import DOCX_TYPE, PDF_TYPE, TXT_TYPE, render_docx, render_pdf, render_txt
from sandbox.store import Binary, Tenant
from tools.icims import codes
from tools.icims.codes import list_node
from tools.icims.formats import format_date
from tools.reference import tables
from tools.settings import DEFAULT_FIELD_MAP

F = DEFAULT_FIELD_MAP
T = TypeVar("T")
YEARS_OF_HISTORY = 3
ENTRY_KEY = "entries"  # Tenant.next_id counter for sub-entry ids (addresses, phones, work, education)
ENTRY_START = 100_001
API_BASE = "https://api.icims.com"


# ---------------------------------------------------------------- list nodes


def node(node_id: str, value: str) -> dict[str, str]:
    return {"id": node_id, "value": value, "formattedvalue": value}


FOLDER_UNREVIEWED = list_node(codes.CANDIDATE_UNREVIEWED)
FOLDER_REVIEWED = list_node(codes.CANDIDATE_REVIEWED)
FOLDER_EMPLOYEE = list_node(codes.EMPLOYEE_FOLDER)
FOLDER_PURGED = list_node(codes.PURGED_FOLDER)
JOB_APPROVED = list_node(codes.JOB_APPROVED)
JOB_CLOSED = list_node(codes.JOB_CLOSED)
JOB_FILLED = list_node(codes.JOB_FILLED)
POOL_ACTIVE = list_node(codes.POOL_ACTIVE)
SOURCE_ORIGIN_WEB = list_node(codes.SOURCE_ORIGIN_WEB_SERVICES)

STATUS_NEW = list_node(codes.APPLICANT_NEW_SUBMISSION)
STATUS_REVIEWED = list_node(codes.APPLICANT_REVIEWED)
STATUS_PHONE = list_node(codes.APPLICANT_PHONE_SCREEN)
STATUS_INTERVIEW = list_node(codes.APPLICANT_INTERVIEW)
STATUS_OFFER = list_node(codes.APPLICANT_OFFER)
STATUS_HIRED = list_node(codes.APPLICANT_HIRED)
STATUS_REJECTED = list_node(codes.APPLICANT_REJECTED)
STATUS_WITHDRAWN = list_node(codes.APPLICANT_WITHDRAWN)
APPLICANT_STATUSES = (
    STATUS_NEW,
    STATUS_REVIEWED,
    STATUS_PHONE,
    STATUS_INTERVIEW,
    STATUS_OFFER,
    STATUS_HIRED,
    STATUS_REJECTED,
    STATUS_WITHDRAWN,
)
SOURCE_STATUSES = tuple(
    list_node(code)
    for code in (
        codes.SOURCE_WORKFLOW_NEEDS_REVIEW,
        codes.SOURCE_WORKFLOW_CONTACTED,
        codes.SOURCE_WORKFLOW_ENGAGED,
        codes.SOURCE_WORKFLOW_NOT_INTERESTED,
    )
)
POSITION_TYPES = {
    "Full-Time": node("D33001", "Full-Time"),
    "Part-Time": node("D33002", "Part-Time"),
    "Contract": node("D33003", "Contract"),
    "Temporary": node("D33004", "Temporary"),
}
ADDRESS_HOME = node("D84001", "Home")
ADDRESS_WORK = node("D84002", "Work")
PHONE_MOBILE = node("D83001", "Mobile")
PHONE_HOME = node("D83002", "Home")
PHONE_WORK = node("D83003", "Work")
COUNTRY_US = {"id": "D41001", "abbrev": "US", "value": "United States"}

LIST_NODES: tuple[dict[str, str], ...] = (
    FOLDER_UNREVIEWED,
    FOLDER_REVIEWED,
    FOLDER_EMPLOYEE,
    FOLDER_PURGED,
    JOB_APPROVED,
    JOB_CLOSED,
    JOB_FILLED,
    POOL_ACTIVE,
    SOURCE_ORIGIN_WEB,
    *APPLICANT_STATUSES,
    *SOURCE_STATUSES,
    *POSITION_TYPES.values(),
    ADDRESS_HOME,
    ADDRESS_WORK,
    PHONE_MOBILE,
    PHONE_HOME,
    PHONE_WORK,
)

# ---------------------------------------------------------------- built-in vocabularies


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _items(text: str) -> tuple[str, ...]:
    return tuple(" ".join(item.split()) for item in text.split("|") if item.strip())


STATES = (
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"),
    ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"),
    ("ME", "Maine"), ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"),
    ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"), ("SD", "South Dakota"),
    ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"), ("VA", "Virginia"),
    ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
)  # fmt: skip
STATE_NODES = {
    abbrev: {"id": f"D41001{index:03d}", "abbrev": abbrev, "value": name}
    for index, (abbrev, name) in enumerate(STATES, start=1)
}


@dataclass(frozen=True, slots=True)
class City:
    name: str
    state: str
    zip_base: int
    area_code: str
    region: str


CITIES = tuple(
    City(*row)
    for row in (
        ("New York", "NY", 10001, "212", "Northeast"),
        ("Los Angeles", "CA", 90012, "213", "West"),
        ("Chicago", "IL", 60601, "312", "Midwest"),
        ("Houston", "TX", 77002, "713", "South"),
        ("Phoenix", "AZ", 85004, "602", "West"),
        ("Philadelphia", "PA", 19103, "215", "Northeast"),
        ("San Antonio", "TX", 78205, "210", "South"),
        ("San Diego", "CA", 92101, "619", "West"),
        ("Dallas", "TX", 75201, "214", "South"),
        ("Austin", "TX", 78701, "512", "South"),
        ("Jacksonville", "FL", 32202, "904", "South"),
        ("San Jose", "CA", 95113, "408", "West"),
        ("Columbus", "OH", 43215, "614", "Midwest"),
        ("Charlotte", "NC", 28202, "704", "South"),
        ("Indianapolis", "IN", 46204, "317", "Midwest"),
        ("San Francisco", "CA", 94105, "415", "West"),
        ("Seattle", "WA", 98101, "206", "West"),
        ("Denver", "CO", 80202, "303", "West"),
        ("Washington", "DC", 20001, "202", "South"),
        ("Nashville", "TN", 37203, "615", "South"),
        ("Boston", "MA", 2108, "617", "Northeast"),
        ("Portland", "OR", 97204, "503", "West"),
        ("Las Vegas", "NV", 89101, "702", "West"),
        ("Detroit", "MI", 48226, "313", "Midwest"),
        ("Atlanta", "GA", 30303, "404", "South"),
        ("Miami", "FL", 33131, "305", "South"),
        ("Minneapolis", "MN", 55401, "612", "Midwest"),
        ("Raleigh", "NC", 27601, "919", "South"),
        ("Kansas City", "MO", 64106, "816", "Midwest"),
        ("Omaha", "NE", 68102, "402", "Midwest"),
        ("Salt Lake City", "UT", 84101, "801", "West"),
        ("Pittsburgh", "PA", 15222, "412", "Northeast"),
        ("St. Louis", "MO", 63101, "314", "Midwest"),
        ("Cincinnati", "OH", 45202, "513", "Midwest"),
        ("Baltimore", "MD", 21202, "410", "South"),
        ("Milwaukee", "WI", 53202, "414", "Midwest"),
        ("Tampa", "FL", 33602, "813", "South"),
        ("Orlando", "FL", 32801, "407", "South"),
        ("Sacramento", "CA", 95814, "916", "West"),
        ("Richmond", "VA", 23219, "804", "South"),
        ("Albuquerque", "NM", 87102, "505", "West"),
        ("Hartford", "CT", 6103, "860", "Northeast"),
    )
)

FEMALE_NAMES = _words(
    """Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
Sandra Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Rebecca Laura
Sharon Cynthia Kathleen Amy Angela Shirley Brenda Emma Anna Pamela Nicole Samantha Katherine Christine
Rachel Maria Olivia Sophia Isabella Mia Ava Grace Chloe Camila Priya Mei Aaliyah Fatima Lucia Yesenia
Keisha Hannah Nora Leah"""
)
MALE_NAMES = _words(
    """James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel
Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George Timothy Ronald Jason Edward
Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory
Alexander Patrick Frank Raymond Jack Dennis Tyler Aaron Jose Carlos Luis Wei Raj Ahmed Malik Darnell Ethan
Noah Liam"""
)
LAST_NAMES = _words(
    """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark
Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson
Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards
Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed
Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes
Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan
Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander
Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina
Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells
Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva
Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox
Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne
Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott
Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman
Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Wang Singh Shah Park Yang
Huang Zhang Liu Khan Ali Das Gupta Cohen Okafor Mensah Abara"""
)
STREETS = _words(
    """Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Sunset Lincoln Jackson River Church
Highland Forest Meadow Spring Ridge Valley Franklin Chestnut Walnut Willow Jefferson Madison Adams Center
Mill"""
)
STREET_SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net")

EMPLOYER_STEMS = _words(
    """Acme Summit Pinnacle Northwind Contoso Fabrikam Bluestone Riverside Evergreen Horizon
Ironwood Keystone Lakeshore Meridian Oakridge Redwood Silverline Starling Trident Vantage Westfield Apex
Beacon Cobalt Crescent Granite Harbor Liberty Magnolia Pioneer Prairie Sequoia Sterling Tidewater
Union"""
)
EMPLOYER_KINDS = _items(
    """Health Systems|Logistics|Software|Financial Group|Foods|Manufacturing|Retail|Consulting|
Energy|Construction|Hospitality|Media|Insurance|Labs|Medical Center|Services|Technologies|Partners|
Industries|Transit"""
)
EMPLOYER_FORMS = ("Inc.", "LLC", "Corp.", "Co.", "Group", "")
EMPLOYERS = tuple(
    " ".join(part for part in (stem, kind, form) if part)
    for stem, kind, form in itertools.product(EMPLOYER_STEMS, EMPLOYER_KINDS, EMPLOYER_FORMS[:3])
)
BRANDS = (
    ("Northwind Health", "northwindhealth.example.com"),
    ("Contoso Group", "contoso.example.com"),
    ("Fabrikam Industries", "fabrikam.example.com"),
    ("Summit Retail Partners", "summitretail.example.com"),
    ("Bluestone Logistics", "bluestone.example.com"),
    ("Meridian Financial", "meridianfinancial.example.com"),
)

UNIVERSITIES = _items(
    """University of Texas at Austin|University of Michigan|Ohio State University|Arizona State
University|University of Florida|Pennsylvania State University|University of Washington|University of
Illinois Urbana-Champaign|Georgia Institute of Technology|University of California, Davis|Rutgers
University|Purdue University|University of Minnesota|Texas A&M University|University of Wisconsin-Madison|
North Carolina State University|University of Colorado Boulder|Boston University|University of Maryland|
Indiana University|Florida State University|University of Arizona|San Diego State University|Temple
University|University of Utah|Virginia Tech|Michigan State University|University of Pittsburgh|University of
Cincinnati|Portland State University"""
)
COLLEGES = _items(
    """Austin Community College|Miami Dade College|Houston Community College|Santa Monica College|
Valencia College|Northern Virginia Community College|Portland Community College|Salt Lake Community College|
Columbus State Community College|Ivy Tech Community College|Maricopa Community Colleges|Wake Technical
Community College"""
)
HIGH_SCHOOLS = _items(
    """Lincoln High School|Roosevelt High School|Washington High School|Jefferson High School|
Central High School|Kennedy High School|Franklin High School|Madison High School"""
)

MAJORS = {
    "11": ("Business Administration", "Management", "Economics", "Finance"),
    "13": ("Accounting", "Finance", "Business Administration", "Economics", "Human Resources"),
    "15": ("Computer Science", "Information Systems", "Software Engineering", "Mathematics", "Statistics"),
    "17": ("Mechanical Engineering", "Civil Engineering", "Electrical Engineering", "Architecture"),
    "19": ("Biology", "Chemistry", "Physics", "Environmental Science", "Psychology", "Economics"),
    "21": ("Social Work", "Psychology", "Sociology", "Counseling"),
    "23": ("Law", "Political Science", "Paralegal Studies", "Criminal Justice"),
    "25": ("Education", "Elementary Education", "English", "History", "Mathematics"),
    "27": ("Graphic Design", "Communications", "Journalism", "Fine Arts", "Marketing"),
    "29": ("Nursing", "Biology", "Health Sciences", "Pharmacy", "Medicine"),
    "31": ("Health Sciences", "Medical Assisting", "Nursing"),
    "33": ("Criminal Justice", "Fire Science", "Public Safety"),
    "35": ("Culinary Arts", "Hospitality Management"),
    "37": ("Horticulture", "Facilities Management"),
    "39": ("Cosmetology", "Recreation Management", "Early Childhood Education"),
    "41": ("Marketing", "Business Administration", "Communications"),
    "43": ("Business Administration", "Office Administration", "Communications"),
    "45": ("Agriculture", "Animal Science"),
    "47": ("Construction Management", "Electrical Technology", "Building Trades"),
    "49": ("Automotive Technology", "Electronics Technology", "HVAC Technology"),
    "51": ("Manufacturing Technology", "Industrial Technology", "Welding Technology"),
    "53": ("Logistics", "Aviation", "Supply Chain Management"),
}
REMOTE_GROUPS = frozenset({"11", "13", "15", "17", "19", "23", "27", "41", "43"})

PERSON_SOURCES = (
    ("Career Site", "Career Site", 35),
    ("Job Board", "Indeed", 20),
    ("Social Media", "LinkedIn", 18),
    ("Referral", "Employee Referral", 10),
    ("Job Board", "ZipRecruiter", 6),
    ("Job Board", "Glassdoor", 5),
    ("Agency", "Staffing Agency", 3),
    ("Event", "Job Fair", 3),
)
SOURCED_SOURCES = (
    ("Social Media", "LinkedIn", 50),
    ("Event", "Job Fair", 20),
    ("Referral", "Employee Referral", 15),
    ("Import", "Talent Pool Import", 15),
)
SEX_WEIGHTS = (("Female", 45), ("Male", 43), ("Declined to self-identify", 8), ("Unknown", 4))
RACE_WEIGHTS = (
    ("White", 50),
    ("Hispanic or Latino", 15),
    ("Black or African American", 11),
    ("Asian", 7),
    ("Two or More Races", 3),
    ("American Indian or Alaska Native", 1),
    ("Native Hawaiian or Other Pacific Islander", 1),
    ("Declined to self-identify", 8),
    ("Unknown", 4),
)
# Always present so a small tenant still has the occupations demos and tests ask about.
ANCHOR_OCCUPATIONS = ("15-1252.00", "29-1141.00", "13-2011.00", "41-2031.00", "43-4051.00")
TOOL_PHRASES = (
    "Used {tools} day to day.",
    "Worked with {tools}.",
    "Tools: {tools}.",
    "Hands-on with {tools}.",
    "Relied on {tools} for daily work.",
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------- summary


@dataclass(frozen=True, slots=True)
class SeedSummary:
    people: int
    employees: int
    candidates: int
    companies: int
    jobs: int
    talentpools: int
    applicantworkflows: int
    sourceworkflows: int
    resumes: int
    demographics: int

    def counts(self) -> dict[str, int]:
        return asdict(self)


# ---------------------------------------------------------------- occupation profiles


@dataclass(slots=True)
class Profile:
    code: str
    title: str
    description: str
    job_zone: int
    group: str  # SOC major group, "15"
    minor: str  # SOC minor group, "15-1"
    titles: tuple[str, ...]
    skills: tuple[str, ...]  # taxonomy labels, hot / in demand first
    hot_count: int
    tasks: tuple[str, ...]
    band: tuple[int, int]
    weight: float


def _clean_title(title: str) -> str:
    # O*NET titles carry expansions in parentheses ("Staff RN (Staff Registered Nurse)").
    return re.sub(r"\s*\([^)]*\)", "", title).strip()


@cache
def profiles() -> dict[str, Profile]:
    """Occupations complete enough to seed from: job zone, wages, titles, technologies and tasks."""
    out: dict[str, Profile] = {}
    all_titles = tables.titles()
    for code, occupation in sorted(tables.occupations().items()):
        wage = tables.wages(code)
        band = wage.annual_band() if wage else None
        skills = tables.tech_skills(code)
        tasks = tables.tasks(code)
        names: list[str] = []
        for title in all_titles.get(code, ()):
            cleaned = _clean_title(title)
            if cleaned and cleaned not in names and len(cleaned) <= 48:
                names.append(cleaned)
        if occupation.job_zone is None or band is None or len(skills) < 3 or len(tasks) < 3 or not names:
            continue
        employment = wage.employment if wage and wage.employment else 1000
        out[code] = Profile(
            code=code,
            title=occupation.title,
            description=occupation.description,
            job_zone=occupation.job_zone,
            group=code[:2],
            minor=code[:4],
            titles=tuple(names[:8]),
            skills=tuple(s.label for s in skills),
            hot_count=max(3, sum(1 for s in skills if s.hot or s.in_demand)),
            tasks=tasks,
            band=band,
            weight=math.sqrt(employment),
        )
    return out


@cache
def work_description(code: str, variant: int) -> str:
    """One of a few fixed descriptions per occupation, shared by every role that uses it."""
    profile = profiles()[code]
    rng = random.Random(f"work:{code}:{variant}")
    picked = rng.sample(profile.tasks, k=min(len(profile.tasks), _pick(rng, (2, 3))))
    top = profile.skills[: max(4, min(profile.hot_count, 12))]
    tools = rng.sample(top, k=min(len(top), _pick(rng, (2, 3, 4))))
    phrase = rng.choice(TOOL_PHRASES)
    return " ".join(picked) + " " + phrase.format(tools=_join(tools))


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _first_sentence(description: str) -> str:
    """The description's first sentence, lower-cased to follow "you will" (descriptions are
    truncated, so a complete first sentence reads better than the cut-off whole)."""
    head = description.split(". ", 1)[0].rstrip(".")
    if head.endswith("..."):
        head = head[:-3].rstrip(" ,;")
    return head[:1].lower() + head[1:] + "."


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- helpers


class Weighted:
    """Fast repeated weighted choice (`random.choices` rebuilds cumulative weights on every call)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _weighted(pairs: Sequence[tuple[Any, ...]]) -> Weighted:
    return Weighted([p[:-1] if len(p) > 2 else p[0] for p in pairs], [p[-1] for p in pairs])


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A minute-precision instant in [start, end) (iCIMS datetimes have minute resolution)."""
    span = int((end - start).total_seconds() // 60)
    if span <= 0:
        return start.replace(second=0, microsecond=0)
    return (start + timedelta(minutes=_randint(rng, 0, span))).replace(second=0, microsecond=0)


_MONTH_DATES: dict[tuple[int, int], str] = {}


def _month(year: int, month: int) -> str:
    key = (year, month)
    text = _MONTH_DATES.get(key)
    if text is None:
        text = _MONTH_DATES[key] = f"{year:04d}-{month:02d}-01"
    return text


def _months_back(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    # random.choice/randrange are several times slower than random(); seeding makes millions of draws.
    return items[int(rng.random() * len(items))]


def _randint(rng: random.Random, low: int, high: int) -> int:
    """An int in [low, high) (like randrange, but cheaper)."""
    return low + int(rng.random() * (high - low))


@cache
def _value_node(value: str) -> dict[str, str]:
    return {"value": value}


def person_link(customer_id: int, person_id: int, name: str) -> dict[str, Any]:
    return {
        "profile": f"{API_BASE}/customers/{customer_id}/people/{person_id}",
        "id": person_id,
        "value": name,
    }


# ---------------------------------------------------------------- the generator


@dataclass(slots=True)
class JobSpec:
    profile: Profile
    created: datetime
    updated: datetime
    closes: datetime  # applications stop here (close date for closed jobs, the seed limit otherwise)
    folder: dict[str, str]
    city: City
    positions: int
    data: dict[str, Any]
    job_id: int = 0
    hires: int = 0


@dataclass(slots=True)
class CandidateSpec:
    index: int
    profile: Profile
    created: datetime
    updated: datetime
    data: dict[str, Any]
    demographics: dict[str, str]
    resume: str | None  # "pdf" | "docx" | "txt"
    region: str
    person_id: int = 0


class _Seeder:
    def __init__(self, tenant: Tenant, people: int, seed: int, now: datetime) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.tenant = tenant
        self.cid = tenant.customer_id
        self.rng = random.Random(seed)
        self.seed = seed
        self.people = max(0, people)
        self.limit = (now - timedelta(hours=1, minutes=1)).astimezone(UTC).replace(second=0, microsecond=0)
        self.start = self.limit - timedelta(days=365 * YEARS_OF_HISTORY)
        # The tenant's history in phases, so ids (handed out in creation order, as iCIMS does) rise
        # with time across kinds too: offices, then staff, then candidates and jobs.
        self.staff_from = self.start + timedelta(days=30)
        self.candidates_from = self.start + timedelta(days=90)
        self.entry = max(tenant.next_id.get(ENTRY_KEY, ENTRY_START), ENTRY_START)
        self.emails: set[str] = set()
        self.brand, self.brand_domain = _pick(self.rng, BRANDS)
        self.profiles = profiles()

    def next_entry(self) -> int:
        value = self.entry
        self.entry += 1
        return value

    # ------------------------------------------------------------ sizes

    def plan(self) -> tuple[int, int, int, int, int]:
        jobs = max(5, self.people // 20)
        recruiters, managers = max(1, jobs // 12), max(2, jobs // 4)
        cap = self.people // 5
        if recruiters + managers > cap:
            recruiters = min(recruiters, max(1, cap // 3)) if cap else 0
            managers = max(0, cap - recruiters)
        locations = min(len(CITIES), max(3, jobs // 8))
        pools = max(3, self.people // 100)
        return jobs, recruiters, managers, locations, pools

    # ------------------------------------------------------------ names and contacts

    def name(self, sex: str | None) -> tuple[str, str]:
        rng = self.rng
        if sex == "Female" or (sex not in ("Male", "Female") and rng.random() < 0.5):
            first = _pick(rng, FEMALE_NAMES)
        else:
            first = _pick(rng, MALE_NAMES)
        return first, _pick(rng, LAST_NAMES)

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        rng = self.rng
        f, lname = first.lower(), re.sub(r"[^a-z]", "", last.lower())
        if domain is None:
            domain = _pick(rng, EMAIL_DOMAINS)
            style = _randint(rng, 0, 4)
            local = (f"{f}.{lname}", f"{f[0]}{lname}", f"{f}_{lname}", f"{f}{lname}{_randint(rng, 10, 99)}")[
                style
            ]
        else:
            local = f"{f}.{lname}"
        address = f"{local}@{domain}"
        n = 2
        while address in self.emails:
            address = f"{local}{n}@{domain}"
            n += 1
        self.emails.add(address)
        return address

    def address(self, city: City, kind: dict[str, str] = ADDRESS_HOME) -> dict[str, Any]:
        rng = self.rng
        street = f"{_randint(rng, 100, 9900)} {_pick(rng, STREETS)} {_pick(rng, STREET_SUFFIXES)}"
        return {
            "entry": self.next_entry(),
            "addressstreet1": street,
            "addresscity": city.name,
            "addressstate": STATE_NODES[city.state],
            "addresszip": f"{city.zip_base + _randint(rng, 0, 20):05d}",
            "addresscountry": COUNTRY_US,
            "addresstype": kind,
        }

    def phone(self, city: City, kind: dict[str, str]) -> dict[str, Any]:
        # 555-0100..0199 is the range reserved for fictional use, so no real number is ever generated.
        return {
            "entry": self.next_entry(),
            "phonenumber": f"({city.area_code}) 555-01{_randint(self.rng, 0, 100):02d}",
            "phonetype": kind,
        }

    # ------------------------------------------------------------ tenant scaffolding

    def companies(self, count: int) -> list[tuple[int, City, dict[str, Any]]]:
        cities = self.rng.sample(CITIES, k=count)
        planned = [
            (_between(self.rng, self.start, self.staff_from), city, self.address(city, ADDRESS_WORK))
            for city in cities
        ]
        out = []
        for created, city, address in sorted(planned, key=lambda p: (p[0], p[1].name)):
            company_id = self.tenant.add(
                "companies",
                {"name": f"{self.brand} - {city.name}", "addresses": [address]},
                created=created,
            )
            out.append((company_id, city, address))
        return out

    def employees(self, count: int, offices: list[tuple[int, City, dict[str, Any]]]) -> list[tuple[int, str]]:
        planned = []
        for index in range(count):
            first, last = self.name(None)
            _cid, city, _addr = _pick(self.rng, offices)
            created = _between(self.rng, self.staff_from, self.candidates_from)
            data = {
                "firstname": first,
                "lastname": last,
                "email": self.email(first, last, self.brand_domain),
                "folder": FOLDER_EMPLOYEE,
                "addresses": [self.address(city, ADDRESS_WORK)],
                "phones": [self.phone(city, PHONE_WORK)],
            }
            planned.append((created, index, _between(self.rng, created, self.limit), data))
        out = []
        for created, _index, updated, data in sorted(planned, key=lambda p: (p[0], p[1])):
            person_id = self.tenant.add("people", data, created=created, updated=updated)
            out.append((person_id, f"{data['firstname']} {data['lastname']}"))
        return out

    # ------------------------------------------------------------ jobs

    def focus(self, jobs: int) -> Weighted:
        rng = self.rng
        pool = [p for p in self.profiles.values()]
        everything = Weighted(pool, [p.weight for p in pool])
        chosen: dict[str, Profile] = {}
        for code in ANCHOR_OCCUPATIONS:
            if code in self.profiles and len(chosen) < jobs:
                chosen[code] = self.profiles[code]
        target = min(len(pool), max(5, min(150, jobs // 3)))
        while len(chosen) < target:
            profile = everything.pick(rng)
            chosen.setdefault(profile.code, profile)
        ordered = list(chosen.values())
        return Weighted(ordered, [p.weight for p in ordered])

    def job_title(self, profile: Profile) -> str:
        rng = self.rng
        titles = profile.titles
        title = titles[min(len(titles) - 1, int(rng.random() ** 2 * min(len(titles), 5)))]
        roll = rng.random()
        if profile.job_zone >= 3 and not title.startswith(("Senior", "Lead", "Chief", "Junior")):
            if roll < 0.2:
                return f"Senior {title}"
            if roll < 0.26:
                return f"Lead {title}"
        return title

    def make_jobs(
        self,
        count: int,
        focus: Weighted,
        offices: list[tuple[int, City, dict[str, Any]]],
        recruiters: list[tuple[int, str]],
        managers: list[tuple[int, str]],
    ) -> list[JobSpec]:
        rng = self.rng
        specs: list[JobSpec] = []
        recent = self.limit - timedelta(days=180)
        for _ in range(count):
            profile: Profile = focus.pick(rng)
            is_recent = rng.random() < 0.65
            if is_recent:
                created = _between(rng, recent, self.limit - timedelta(days=1))
                roll = rng.random()
                folder = JOB_APPROVED if roll < 0.9 else JOB_FILLED if roll < 0.96 else JOB_CLOSED
            else:
                created = _between(rng, self.candidates_from, recent)
                roll = rng.random()
                folder = JOB_APPROVED if roll < 0.12 else JOB_FILLED if roll < 0.65 else JOB_CLOSED
            if folder is JOB_APPROVED:
                closes = self.limit
                updated = _between(rng, created, self.limit)
            else:
                closes = min(self.limit, created + timedelta(days=_randint(rng, 21, 120)))
                updated = closes
            company_id, city, address = _pick(rng, offices)
            title = self.job_title(profile)
            positions = 1 if profile.job_zone >= 3 or rng.random() < 0.7 else _randint(rng, 2, 6)
            skills = profile.skills
            top = list(skills[: max(5, min(profile.hot_count, 12))])
            must = rng.sample(top, k=min(len(top), _randint(rng, 3, 6)))
            rest = [s for s in skills[: max(10, profile.hot_count + 4)] if s not in must]
            nice = rng.sample(rest, k=min(len(rest), _randint(rng, 2, 5)))
            low, high = profile.band
            position_type = self.position_type(profile)
            remote = self.remote(profile)
            data: dict[str, Any] = {
                "jobtitle": title,
                "folder": folder,
                "joblocation": {
                    "companyid": company_id,
                    "id": address["entry"],
                    "value": f"{city.name}, {city.state}",
                    # Like iCIMS: a link to the company's address entry (the sandbox rebases it).
                    "address": (
                        f"{API_BASE}/customers/{self.cid}/companies/{company_id}/fields/addresses/"
                        f"{address['entry']}"
                    ),
                },
                "numberofpositions": positions,
                "overview": self.overview(profile, title, city, remote),
                "responsibilities": "\n".join(f"- {task}" for task in profile.tasks),
                "qualifications": self.qualifications(profile, must, nice),
                "positiontype": POSITION_TYPES[position_type],
                F["job_must_have_skills"]: "; ".join(must),
                F["job_nice_to_have_skills"]: "; ".join(nice),
                F["job_soc_code"]: profile.code,
                F["job_salary_min"]: low,
                F["job_salary_max"]: high,
                F["job_remote"]: remote,
            }
            if recruiters:
                person_id, name = _pick(rng, recruiters)
                data["recruiter"] = person_link(self.cid, person_id, name)
            if managers:
                person_id, name = _pick(rng, managers)
                data["hiringmanager"] = person_link(self.cid, person_id, name)
            specs.append(JobSpec(profile, created, updated, closes, folder, city, positions, data))
        specs.sort(key=lambda s: s.created)
        for spec in specs:
            spec.job_id = self.tenant.allocate_id("jobs")
            spec.data = {"jobid": f"{spec.created.year}-{spec.job_id}", **spec.data}
            self.tenant.add(
                "jobs", spec.data, record_id=spec.job_id, created=spec.created, updated=spec.updated
            )
        return specs

    def position_type(self, profile: Profile) -> str:
        roll = self.rng.random()
        part_time = 0.15 if profile.job_zone <= 2 else 0.04
        if roll < part_time:
            return "Part-Time"
        if roll < part_time + 0.05:
            return "Contract"
        if roll < part_time + 0.08:
            return "Temporary"
        return "Full-Time"

    def remote(self, profile: Profile) -> str:
        roll = self.rng.random()
        if profile.group in REMOTE_GROUPS:
            return "Remote" if roll < 0.3 else "Hybrid" if roll < 0.7 else "On-site"
        return "Hybrid" if roll < 0.05 else "On-site"

    def overview(self, profile: Profile, title: str, city: City, remote: str) -> str:
        where = {
            "Remote": "a remote role",
            "Hybrid": f"a hybrid role based in {city.name}, {city.state}",
        }.get(remote, f"an on-site role in {city.name}, {city.state}")
        return (
            f"{self.brand} is hiring {_a(title)} for {where}. In this role you will "
            f"{_first_sentence(profile.description)}"
        )

    def qualifications(self, profile: Profile, must: Sequence[str], nice: Sequence[str]) -> str:
        education = {
            1: "No formal education required; training provided.",
            2: "High school diploma or equivalent.",
            3: "Associate degree, vocational training or equivalent experience.",
            4: "Bachelor's degree in a related field.",
            5: "Graduate degree (master's, doctorate or professional degree) in a related field.",
        }[profile.job_zone]
        years = {1: 0, 2: 1, 3: 2, 4: 3, 5: 5}[profile.job_zone]
        lines = [f"- {education}"]
        if years:
            lines.append(f"- {years}+ years of experience as {_a(profile.titles[0])} or in a similar role.")
        lines.append(f"- Required: {_join(list(must))}.")
        if nice:
            lines.append(f"- Nice to have: {_join(list(nice))}.")
        return "\n".join(lines)

    # ------------------------------------------------------------ candidates

    def make_candidates(
        self, count: int, jobs: list[JobSpec], focus: Weighted
    ) -> tuple[list[CandidateSpec], list[tuple[datetime, int, int, dict[str, str], tuple[str, str]]]]:
        rng = self.rng
        by_code: dict[str, list[int]] = {}
        by_minor: dict[str, list[int]] = {}
        for index, job in enumerate(jobs):
            by_code.setdefault(job.profile.code, []).append(index)
            by_minor.setdefault(job.profile.minor, []).append(index)
        all_profiles = list(self.profiles.values())
        everything = Weighted(all_profiles, [p.weight for p in all_profiles])
        job_profiles = Weighted([j.profile for j in jobs], [1.0] * len(jobs)) if jobs else focus
        sexes, races = _weighted(SEX_WEIGHTS), _weighted(RACE_WEIGHTS)
        sources, sourced = _weighted(PERSON_SOURCES), _weighted(SOURCED_SOURCES)
        applications = Weighted((0, 1, 2, 3), (30, 42, 18, 10))
        candidates: list[CandidateSpec] = []
        # (created, candidate index, job index, status, (source, sourcename)); person ids come later.
        applied: list[tuple[datetime, int, int, dict[str, str], tuple[str, str]]] = []
        for index in range(count):
            sex = sexes.pick(rng)
            race = races.pick(rng)
            first, last = self.name(sex)
            roll = rng.random()
            profile: Profile = (
                job_profiles.pick(rng)
                if roll < 0.55
                else focus.pick(rng)
                if roll < 0.75
                else everything.pick(rng)
            )
            wanted = applications.pick(rng) if jobs else 0
            picked: list[int] = []
            for _ in range(wanted):
                roll = rng.random()
                same = by_code.get(profile.code)
                near = by_minor.get(profile.minor)
                if same and roll < 0.75:
                    choice = _pick(rng, same)
                elif near and roll < 0.9:
                    choice = _pick(rng, near)
                else:
                    choice = rng.randrange(len(jobs))
                if choice not in picked:
                    picked.append(choice)
            source = (sources if picked else sourced).pick(rng)
            dates: list[datetime] = []
            for job_index in picked:
                job = jobs[job_index]
                window_end = min(job.closes, job.created + timedelta(days=60))
                dates.append(_between(rng, job.created, window_end))
            if dates:
                created = max(self.candidates_from, min(dates) - timedelta(minutes=_randint(rng, 2, 90)))
                last_touch = max(dates)
            else:
                created = _between(rng, self.candidates_from, self.limit - timedelta(days=1))
                last_touch = created
            updated = _between(rng, last_touch, min(self.limit, last_touch + timedelta(days=120)))
            updated = max(updated, created)
            for job_index, when in zip(picked, dates, strict=True):
                status = self.status(jobs[job_index], when)
                applied.append((when, index, job_index, status, source))
            # Most applicants live where the job is; the rest are spread across the country.
            city = jobs[picked[0]].city if picked and rng.random() < 0.65 else _pick(rng, CITIES)
            data = self.candidate_data(first, last, city, profile, created, source)
            resume = None
            if rng.random() < 0.9:
                roll = rng.random()
                resume = "pdf" if roll < 0.45 else "docx" if roll < 0.8 else "txt"
            candidates.append(
                CandidateSpec(
                    index=index,
                    profile=profile,
                    created=created,
                    updated=updated,
                    data=data,
                    demographics={"sex": sex, "race_ethnicity": race},
                    resume=resume,
                    region=city.region,
                )
            )
        return candidates, applied

    def status(self, job: JobSpec, when: datetime) -> dict[str, str]:
        roll = self.rng.random()
        if job.folder is JOB_APPROVED:
            age = (self.limit - when).days
            if age < 7:
                table = ((0.7, STATUS_NEW), (0.9, STATUS_REVIEWED), (1.0, STATUS_PHONE))
            else:
                table = (
                    (0.2, STATUS_NEW),
                    (0.42, STATUS_REVIEWED),
                    (0.56, STATUS_PHONE),
                    (0.68, STATUS_INTERVIEW),
                    (0.72, STATUS_OFFER),
                    (0.95, STATUS_REJECTED),
                    (1.0, STATUS_WITHDRAWN),
                )
        elif job.folder is JOB_FILLED:
            if job.hires < job.positions and roll < 0.12:
                job.hires += 1
                return STATUS_HIRED
            table = (
                (0.04, STATUS_NEW),
                (0.12, STATUS_REVIEWED),
                (0.15, STATUS_PHONE),
                (0.19, STATUS_INTERVIEW),
                (0.86, STATUS_REJECTED),
                (1.0, STATUS_WITHDRAWN),
            )
        else:
            table = (
                (0.06, STATUS_NEW),
                (0.14, STATUS_REVIEWED),
                (0.86, STATUS_REJECTED),
                (1.0, STATUS_WITHDRAWN),
            )
        for threshold, status in table:
            if roll < threshold:
                return status
        return table[-1][1]

    def candidate_data(
        self, first: str, last: str, city: City, profile: Profile, created: datetime, source: tuple[str, str]
    ) -> dict[str, Any]:
        rng = self.rng
        phones = [self.phone(city, PHONE_MOBILE)]
        if rng.random() < 0.15:
            phones.append(self.phone(city, PHONE_HOME))
        work, first_start = self.work_history(profile, created)
        data: dict[str, Any] = {
            "firstname": first,
            "lastname": last,
            "email": self.email(first, last),
            "folder": FOLDER_UNREVIEWED,
            "addresses": [self.address(city)],
            "phones": phones,
            "workexperience": work,
            "education": self.education(profile, first_start),
            "source": source[1],
        }
        data.update(self.consent(profile, created))
        return data

    def consent(self, profile: Profile, created: datetime) -> dict[str, str]:
        rng = self.rng
        roll = rng.random()
        status = "Granted" if roll < 0.8 else "Pending" if roll < 0.92 else "Withdrawn"
        fields: dict[str, str] = {F["consent_status"]: status}
        if status == "Granted":
            # Two-year consent from sign-up: people who joined long ago now hold expired consent.
            fields[F["consent_expires"]] = format_date((created + timedelta(days=730)).date())
        opted_out = rng.random() < (0.35 if status == "Withdrawn" else 0.025)
        fields[F["opt_out"]] = "Yes" if opted_out else "No"
        fields[F["do_not_contact"]] = "Yes" if rng.random() < 0.02 else "No"
        roll = rng.random()
        if profile.group in REMOTE_GROUPS:
            preference = (
                "Remote" if roll < 0.35 else "Hybrid" if roll < 0.7 else "On-site" if roll < 0.85 else ""
            )
        else:
            preference = "On-site" if roll < 0.6 else "Hybrid" if roll < 0.7 else ""
        if preference:
            fields[F["remote_preference"]] = preference
        return fields

    def work_history(
        self, profile: Profile, created: datetime
    ) -> tuple[list[dict[str, Any]], tuple[int, int]]:
        rng = self.rng
        roles = rng.randint(2, 5) if profile.job_zone >= 3 else rng.randint(2, 4)
        year, month = created.year, created.month
        current = rng.random() < 0.65
        if not current:
            year, month = _months_back(year, month, _randint(rng, 1, 10))
        related = [p for p in _minor_profiles(profile.minor) if p.job_zone <= profile.job_zone]
        entries: list[dict[str, Any]] = []
        for role in range(roles):
            months = _randint(rng, 8, 30 if profile.job_zone <= 2 else 60)
            start = _months_back(year, month, months)
            occupation = profile
            if role > 0 and related and rng.random() < 0.3:
                occupation = _pick(rng, related)
            titles = occupation.titles
            title = titles[min(len(titles) - 1, int(rng.random() ** 2 * min(len(titles), 6)))]
            if role == 0 and roles >= 4 and occupation.job_zone >= 3 and rng.random() < 0.5:
                title = f"Senior {title}" if not title.startswith("Senior") else title
            entry: dict[str, Any] = {
                "entry": self.next_entry(),
                "workemployer": _pick(rng, EMPLOYERS),
                "worktitle": title,
                "workstartdate": _month(*start),
                "workdescription": work_description(occupation.code, _randint(rng, 0, 6)),
            }
            if not (role == 0 and current):
                entry["workenddate"] = _month(year, month)
            entries.append(entry)
            year, month = _months_back(*start, _randint(rng, 0, 5))
        return entries, (year, month)

    def education(self, profile: Profile, before: tuple[int, int]) -> list[dict[str, Any]]:
        rng = self.rng
        majors = MAJORS.get(profile.group, ("General Studies",))
        major = _pick(rng, majors)
        grad_year = before[0] - (0 if before[1] >= 6 else 1)
        zone, roll = profile.job_zone, rng.random()
        degrees: list[tuple[str, str, str | None]] = []  # (degree, school kind, major)
        if zone == 1:
            if roll < 0.6:
                degrees.append(("High School Diploma", "hs", None))
        elif zone == 2:
            if roll < 0.2:
                degrees.append(("Associate of Applied Science", "cc", major))
            elif roll < 0.9:
                degrees.append(("High School Diploma", "hs", None))
        elif zone == 3:
            if roll < 0.4:
                degrees.append(("Associate of Applied Science", "cc", major))
            elif roll < 0.75:
                degrees.append((self.bachelor(major), "uni", major))
            else:
                degrees.append(("High School Diploma", "hs", None))
        elif zone == 4:
            if roll < 0.15:
                degrees.append(
                    (
                        "Master of Business Administration"
                        if profile.group in ("11", "13")
                        else "Master of Science",
                        "uni",
                        major,
                    )
                )
            if roll < 0.95:
                degrees.append((self.bachelor(major), "uni", major))
            else:
                degrees.append(("Associate of Arts", "cc", major))
        else:
            top = "Doctor of Philosophy"
            if profile.group == "23":
                top = "Juris Doctor"
            elif profile.minor == "29-1" and profile.code[:5] in ("29-12", "29-10"):
                top = "Doctor of Medicine"
            degrees.append((top if roll < 0.45 else "Master of Science", "uni", major))
            degrees.append((self.bachelor(major), "uni", major))
        out: list[dict[str, Any]] = []
        year = grad_year
        for degree, kind, subject in degrees:
            school = {"hs": HIGH_SCHOOLS, "cc": COLLEGES, "uni": UNIVERSITIES}[kind]
            entry: dict[str, Any] = {
                "entry": self.next_entry(),
                "school": _value_node(_pick(rng, school)),
                "degree": _value_node(degree),
                "graduationdate": f"{year:04d}-{'05' if rng.random() < 0.8 else '12'}-15",
            }
            if subject:
                entry["major"] = _value_node(subject)
            out.append(entry)
            year -= _pick(rng, (2, 3, 4))
        return out

    def bachelor(self, major: str) -> str:
        arts = {
            "English",
            "History",
            "Communications",
            "Journalism",
            "Fine Arts",
            "Political Science",
            "Sociology",
        }
        return "Bachelor of Arts" if major in arts else "Bachelor of Science"

    # ------------------------------------------------------------ write candidates and workflows

    def add_candidates(self, candidates: list[CandidateSpec]) -> int:
        order = sorted(candidates, key=lambda c: (c.created, c.index))
        resumes = 0
        for spec in order:
            spec.person_id = self.tenant.add("people", spec.data, created=spec.created, updated=spec.updated)
            self.tenant.demographics[spec.person_id] = spec.demographics
            if spec.resume:
                record = self.tenant.records["people"][spec.person_id]
                source = ResumeSource(
                    record.data,
                    spec.profile.code,
                    f"{self.seed}:{spec.person_id}",
                    spec.resume,
                    spec.created.year,
                )
                key = ("people", spec.person_id, "resume")
                self.tenant.texts[key] = source.text
                self.tenant.binaries[key] = source.binary
                resumes += 1
            spec.data = {}  # the tenant holds the record now; drop the spec's reference
        return resumes

    def add_applications(
        self,
        applied: list[tuple[datetime, int, int, dict[str, str], tuple[str, str]]],
        candidates: list[CandidateSpec],
        jobs: list[JobSpec],
    ) -> int:
        # Filled jobs should show at least one hire among their applicants.
        hired_jobs = {job_index for _w, _c, job_index, status, _s in applied if status is STATUS_HIRED}
        for position, (when, cand, job_index, _status, source) in enumerate(applied):
            job = jobs[job_index]
            if job.folder is JOB_FILLED and job_index not in hired_jobs:
                applied[position] = (when, cand, job_index, STATUS_HIRED, source)
                hired_jobs.add(job_index)
        applied.sort(key=lambda a: (a[0], a[1], a[2]))
        rng = self.rng
        for when, cand, job_index, status, (source, sourcename) in applied:
            spec = candidates[cand]
            job = jobs[job_index]
            updated = (
                when
                if status is STATUS_NEW
                else _between(rng, when, min(self.limit, job.closes + timedelta(days=1)))
            )
            self.tenant.add(
                "applicantworkflows",
                {
                    "baseprofile": job.job_id,
                    "associatedprofile": spec.person_id,
                    "status": status,
                    "source": source,
                    "sourcename": sourcename,
                },
                created=when,
                updated=max(when, updated),
            )
        return len(applied)


def _minor_profiles(minor: str) -> list[Profile]:
    return _minor_index().get(minor, [])


@cache
def _minor_index() -> dict[str, list[Profile]]:
    out: dict[str, list[Profile]] = {}
    for profile in profiles().values():
        out.setdefault(profile.minor, []).append(profile)
    return out


# ---------------------------------------------------------------- resumes


class ResumeSource:
    """Lazily renders one person's resume; the text is built first and the file rendered from it."""

    __slots__ = ("as_of", "code", "data", "fmt", "key")

    def __init__(self, data: dict[str, Any], code: str, key: str, fmt: str, as_of: int) -> None:
        self.data, self.code, self.key, self.fmt, self.as_of = data, code, key, fmt, as_of

    def text(self) -> str:
        return resume_text(self.data, self.code, self.key, self.as_of)

    def binary(self) -> Binary:
        text = self.text()
        stem = re.sub(r"[^A-Za-z]+", "_", f"{self.data.get('firstname', '')}_{self.data.get('lastname', '')}")
        if self.fmt == "pdf":
            return Binary(render_pdf(text), PDF_TYPE, f"{stem}_Resume.pdf")
        if self.fmt == "docx":
            return Binary(render_docx(text), DOCX_TYPE, f"{stem}_Resume.docx")
        return Binary(render_txt(text), TXT_TYPE, f"{stem}_Resume.txt")


def _month_label(text: str) -> str:
    return f"{MONTHS[int(text[5:7]) - 1]} {text[:4]}"


def resume_text(data: dict[str, Any], code: str, key: str, as_of: int) -> str:
    """Plain resume text from a seeded person record (deterministic for the same record and key)."""
    rng = random.Random(f"resume:{key}")
    profile = profiles()[code]
    address = (data.get("addresses") or [{}])[0]
    phone = (data.get("phones") or [{}])[0].get("phonenumber", "")
    state = address.get("addressstate", {}).get("abbrev", "")
    contact = " | ".join(
        part
        for part in (
            f"{address.get('addresscity', '')}, {state} {address.get('addresszip', '')}".strip(", "),
            data.get("email", ""),
            phone,
        )
        if part
    )
    work = data.get("workexperience", [])
    top = list(profile.skills[: max(5, min(profile.hot_count, 14))])
    skills = rng.sample(top, k=min(len(top), _randint(rng, 5, 11)))
    lines = [f"{data.get('firstname', '')} {data.get('lastname', '')}".strip(), contact, ""]
    if work:
        latest = int(work[0]["workenddate"][:4]) if "workenddate" in work[0] else as_of
        years = max(1, latest - int(work[-1]["workstartdate"][:4]))
        opener = _pick(rng, ("Experienced", "Dependable", "Results-driven", "Detail-oriented", "Motivated"))
        lines += [
            "SUMMARY",
            f"{opener} {work[0]['worktitle']} with {years}+ years of experience. "
            f"Skilled in {_join(skills[:3])}.",
            "",
            "EXPERIENCE",
        ]
        for role in work:
            end = _month_label(role["workenddate"]) if "workenddate" in role else "Present"
            start = _month_label(role["workstartdate"])
            lines.append(f"{role['worktitle']} | {role['workemployer']} | {start} - {end}")
            sentences = re.split(r"(?<=\.)\s+(?=[A-Z])", role.get("workdescription", ""))
            lines += [f"- {sentence}" for sentence in sentences if sentence]
            lines.append("")
    education = data.get("education", [])
    if education:
        lines.append("EDUCATION")
        for entry in education:
            degree = entry["degree"]["value"]
            major = entry.get("major", {}).get("value")
            head = f"{degree}, {major}" if major else degree
            lines.append(f"{head} | {entry['school']['value']} | {entry['graduationdate'][:4]}")
        lines.append("")
    lines += ["SKILLS", ", ".join(skills)]
    return "\n".join(lines)


# ---------------------------------------------------------------- entry point


def seed_tenant(tenant: Tenant, *, people: int, seed: int, now: datetime) -> SeedSummary:
    """Fill `tenant` with `people` person records (employees included) and the jobs, companies,
    talent pools and workflows around them, all timestamped before `now` minus one hour."""
    # Seeding allocates millions of acyclic dicts; the cyclic collector would rescan the growing heap
    # over and over (100k people took 15 s instead of 6). Nothing here creates cycles to collect.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _seed(tenant, people=people, seed=seed, now=now)
    finally:
        if was_enabled:
            gc.enable()


def _seed(tenant: Tenant, *, people: int, seed: int, now: datetime) -> SeedSummary:
    seeder = _Seeder(tenant, people, seed, now)
    for item in LIST_NODES:
        tenant.list_nodes.setdefault(item["id"], item["value"])
    n_jobs, n_recruiters, n_managers, n_locations, n_pools = seeder.plan()
    offices = seeder.companies(n_locations)
    staff = seeder.employees(n_recruiters + n_managers, offices)
    recruiter_slots = set(seeder.rng.sample(range(len(staff)), k=n_recruiters))
    recruiters = [person for i, person in enumerate(staff) if i in recruiter_slots]
    managers = [person for i, person in enumerate(staff) if i not in recruiter_slots]
    n_candidates = max(0, seeder.people - len(recruiters) - len(managers))
    focus = seeder.focus(n_jobs)
    jobs = seeder.make_jobs(n_jobs, focus, offices, recruiters, managers)
    candidates, applied = seeder.make_candidates(n_candidates, jobs, focus)
    _mark_reviewed(candidates, applied, seeder.rng)
    resumes = seeder.add_candidates(candidates)
    n_applications = seeder.add_applications(applied, candidates, jobs)
    n_pools_added, n_members = _talent_pools(seeder, n_pools, candidates, focus, recruiters + managers)
    tenant.next_id[ENTRY_KEY] = seeder.entry
    return SeedSummary(
        people=len(recruiters) + len(managers) + len(candidates),
        employees=len(recruiters) + len(managers),
        candidates=len(candidates),
        companies=len(offices),
        jobs=len(jobs),
        talentpools=n_pools_added,
        applicantworkflows=n_applications,
        sourceworkflows=n_members,
        resumes=resumes,
        demographics=len(candidates),
    )


def _mark_reviewed(
    candidates: list[CandidateSpec],
    applied: list[tuple[datetime, int, int, dict[str, str], tuple[str, str]]],
    rng: random.Random,
) -> None:
    """Candidates someone has looked at move to Cand:Reviewed; untouched ones stay Unreviewed."""
    reviewed = {cand for _w, cand, _j, status, _s in applied if status is not STATUS_NEW}
    for spec in candidates:
        if spec.index in reviewed or rng.random() < 0.2:
            spec.data["folder"] = FOLDER_REVIEWED


def _talent_pools(
    seeder: _Seeder,
    count: int,
    candidates: list[CandidateSpec],
    focus: Weighted,
    owners: list[tuple[int, str]],
) -> tuple[int, int]:
    rng, tenant = seeder.rng, seeder.tenant
    regions = ("Northeast", "South", "Midwest", "West")
    occupations: list[Profile] = []
    for profile in focus.items:
        if profile not in occupations:
            occupations.append(profile)
    # One national pool per focus occupation, then regional ones, then further waves of both.
    keys: list[tuple[Profile, str | None, int]] = []
    wave = 1
    while len(keys) < count and occupations:
        keys += [(p, None, wave) for p in occupations]
        keys += [(p, r, wave) for p in occupations for r in regions]
        wave += 1
    keys = keys[:count]
    pools: dict[tuple[str, str | None], list[tuple[int, datetime]]] = {}
    opened = sorted(
        _between(rng, seeder.candidates_from, seeder.candidates_from + timedelta(days=60)) for _ in keys
    )
    for number, (profile, region, wave) in enumerate(keys, start=1):
        title = (
            f"{profile.titles[0]} Talent Community"
            + (f" - {region}" if region else "")
            + (f" ({wave})" if wave > 1 else "")
        )
        created = opened[number - 1]
        data: dict[str, Any] = {
            "title": title,
            "externalid": f"TP-{number:04d}",
            "folder": POOL_ACTIVE,
            "overview": (
                f"Prospects for {profile.title.lower()} roles"
                + (f" in the {region}" if region else "")
                + f": people with experience in {_join(list(profile.skills[:3]))}."
            ),
        }
        if owners:
            person_id, name = _pick(rng, owners)
            data["owner"] = person_link(seeder.cid, person_id, name)
        pool_id = tenant.add(
            "talentpools", data, created=created, updated=_between(rng, created, seeder.limit)
        )
        pools.setdefault((profile.code, region), []).append((pool_id, created))
    by_minor: dict[str, list[tuple[int, datetime]]] = {}
    for (code, _region), entries in pools.items():
        by_minor.setdefault(code[:4], []).extend(entries)
    members: list[tuple[datetime, int, int, dict[str, str], str]] = []
    joined: set[tuple[int, int]] = set()
    per_pool: Counter[int] = Counter()
    statuses = Weighted(SOURCE_STATUSES, (40, 30, 18, 12))
    origins = ("Recruiter Sourced", "Career Fair", "Talent Pool Import", "Referral")

    def join(spec: CandidateSpec, pool_id: int, pool_created: datetime) -> None:
        joined.add((pool_id, spec.person_id))
        per_pool[pool_id] += 1
        when = _between(rng, max(spec.created, pool_created), seeder.limit)
        members.append((when, pool_id, spec.person_id, statuses.pick(rng), _pick(rng, origins)))

    # Recruiters pool people by occupation (same region first), else by the wider occupation group.
    for spec in candidates:
        code = spec.profile.code
        options = pools.get((code, spec.region)) or pools.get((code, None))
        chance = 0.4
        if not options:
            options, chance = by_minor.get(spec.profile.minor), 0.2
        if options and rng.random() < chance:
            join(spec, *_pick(rng, options))
    # Small tenants would leave pools nearly empty; give each a handful of members.
    wanted = min(5, len(candidates))
    for entries in pools.values():
        for pool_id, pool_created in entries:
            attempts = 0
            while per_pool[pool_id] < wanted and attempts < 50:
                attempts += 1
                spec = _pick(rng, candidates)
                if (pool_id, spec.person_id) not in joined:
                    join(spec, pool_id, pool_created)
    members.sort(key=lambda m: (m[0], m[1], m[2]))
    for when, pool_id, person_id, status, origin in members:
        tenant.add(
            "sourceworkflows",
            {
                "baseprofile": pool_id,
                "associatedprofile": person_id,
                "status": status,
                "source": origin,
                "sourceorigin": SOURCE_ORIGIN_WEB,
            },
            created=when,
            updated=_between(rng, when, seeder.limit),
        )
    return len(keys), len(members)


DEMOGRAPHICS_COLUMNS = ("person_id", "sex", "race_ethnicity")


def write_demographics_csv(tenant: Tenant, path: Any) -> int:
    """Export the tenant's self-reported demographics (EEO data, held apart from profiles) as the
    CSV `icims-agents audit bias --demographics` reads; returns the number of people written.
    Like an ATS's EEO export: never served in profiles, never read by scoring."""
    import csv
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(DEMOGRAPHICS_COLUMNS)
        for person_id in sorted(tenant.demographics):
            demo = tenant.demographics[person_id]
            writer.writerow([person_id, demo.get("sex", ""), demo.get("race_ethnicity", "")])
    return len(tenant.demographics)

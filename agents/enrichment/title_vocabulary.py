"""The words title normalisation knows: abbreviations, level words, generic heads, and the titles and
management areas O*NET lacks or files under a rare occupation."""

from __future__ import annotations

from agents.enrichment.text import word_set

# Word-level expansions applied to both the index and the query, so either spelling meets the other.
ABBREVIATIONS: dict[str, str] = {
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
ADMIN_TAIL = "administrator"
ADMIN_HEAD = "administrative"


# Level words that say how senior, not which occupation.
LEVEL_WORDS = word_set(
    """senior junior lead principal entry level trainee intern internship apprentice experienced i ii iii
    iv v vi 1 2 3 4 5 remote hybrid onsite part full time temporary temp contract freelance seasonal per
    diem prn"""
)
# Head nouns too generic to name an occupation on their own.
GENERIC_HEADS = word_set(
    """manager consultant specialist assistant associate coordinator analyst director officer administrator
    representative supervisor executive lead member intern professional agent advisor adviser partner
    owner worker technician engineer clerk operator summary resume staff employee contractor volunteer
    leader head president founder generalist expert team"""
)
# Plural-looking words that are not plurals.
NOT_PLURAL = word_set(
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
MANAGER_AREAS: dict[str, str] = {
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
MANAGER_HEADS = ("manager", "director", "head", "vice president", "executive director")

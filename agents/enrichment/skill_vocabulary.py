"""The curated half of the skill vocabulary and the case rules for short skill names.

The taxonomy (`tools.reference.skills()`) supplies most names; these tables add the abbreviations
people write that it lacks, everyday domain skills outside a technology taxonomy, and the single-token
names that are ordinary words and need their exact case or a list around them.
"""

from __future__ import annotations

from agents.enrichment.text import word_set

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


# Single-token names that are everyday English words, generic abbreviations or product suffixes: the
# taxonomy lists them (mostly as aliases of vendor products) but in resumes they almost never name a skill.
STOP_NAMES = word_set(
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
CONTEXT_ONLY = word_set(
    """r c d e j go swift chef puppet salt unity scratch julia ant make logo basic shell express meteor pig
    oak ada lisp spark hive maven flask dart elm crystal pascal forth prolog mercury groovy alice access
    oracle ruby rust word"""
)
# Exact case suffices for these capitalised product names that are lower-case words otherwise.
EXACT_CASE = frozenset({"excel", "outlook", "windows", "slack", "zoom", "canvas"})
# Short names safe in any case (some posting sources are lower-cased throughout). Other names of three
# letters or fewer must be written as the taxonomy writes them or in capitals: most are obscure product
# acronyms that collide with words ("act", "elf") or degrees ("DDS").
SHORT_ANY_CASE = word_set(
    """sql aws css php xml git ios sap sas etl vba svn jsp asp lua tcl uml nlp iot ftp dns vpn ssl tls bgp
    db2 ec2 s3 k8s es6 js c# c++ vue gcc awk orm edi plm gps hdl dsp bim cmm sem mdx"""
)

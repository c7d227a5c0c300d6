"""Derive the compact reference tables in `tools/reference/data/` from O*NET 29.2, ESCO and BLS OEWS.

    python -m tools.reference.build [--shared PATH]

PATH defaults to `../shared/data` next to the repository. The output is deterministic (sorted rows,
gzip header without name or mtime), so re-running on the same inputs gives byte-identical files and
a clean `git diff`. Only O*NET, ESCO and BLS files are read: the evaluation texts beside them are
for internal evaluation and must never end up in the repository.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
OUT_DIR = Path(__file__).resolve().parent / "data"

DESCRIPTION_CHARS = 200
TITLES_PER_OCCUPATION = 15
# 30 rather than 25: Software Developers alone has 30 "In Demand" technologies and cutting
# among them would drop core languages.
TECH_PER_OCCUPATION = 30
TASKS_PER_OCCUPATION = 6
ALIASES_PER_SKILL = 12
TOP_CODED_ANNUAL = 239_200
TOP_CODED_HOURLY = 115.0
ANNUAL_COLUMNS = ("A_PCT10", "A_PCT25", "A_MEDIAN", "A_PCT75", "A_PCT90")
HOURLY_COLUMNS = ("H_PCT25", "H_MEDIAN", "H_PCT75")

# Vendors whose name people usually leave off ("Oracle Java" -> "Java"); only used for aliases and
# for lining O*NET names up with ESCO labels.
VENDORS = (
    "Adobe",
    "Amazon",
    "Apache",
    "Apple",
    "Atlassian",
    "Autodesk",
    "Cisco",
    "Google",
    "IBM",
    "Intuit",
    "Microsoft",
    "Oracle",
    "Red Hat",
    "Salesforce",
    "SAP",
    "VMware",
)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


GENERIC_WORDS = _word_set(
    """access ads analytics ant bamboo beehive calendar checkout classroom clinical cloud cocoa combustion
    connect continuum contribute darwin database designer director docs domino drive dynamics entourage
    exchange flex gump inventor inventory keynote maintenance mechanical meet middleware money notes office
    paint persuasion pig presenter project publisher rational reports scholar sheets sites slides smoke
    software teams video word works workspace world"""
)
ACRONYM_SKIP_WORDS = frozenset({"and", "for", "of", "the", "&", "to", "in", "on"})


# ---------------------------------------------------------------- reading


def read_tsv(path: Path) -> list[dict[str, str]]:
    # O*NET files carry CRLF and a few bare CRs inside fields, so let the csv module split rows.
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_gzip(path: Path, payload: bytes) -> None:
    buffer = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of anything that changes between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as handle:
        handle.write(payload)
    path.write_bytes(buffer.getvalue())


def write_csv_gz(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        count += 1
    write_gzip(path, text.getvalue().encode("utf-8"))
    return count


def clean(text: str) -> str:
    return " ".join(text.split())


def truncate(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def casefold_key(text: str) -> str:
    return clean(text).casefold()


# ---------------------------------------------------------------- O*NET


def build_occupations(onet: Path) -> tuple[list[tuple[str, str, int | None, str]], set[str]]:
    zones = {row["O*NET-SOC Code"]: int(row["Job Zone"]) for row in read_tsv(onet / "Job Zones.txt")}
    rows = []
    for row in read_tsv(onet / "Occupation Data.txt"):
        code = row["O*NET-SOC Code"]
        rows.append((code, clean(row["Title"]), zones.get(code), truncate(row["Description"])))
    rows.sort()
    return rows, {row[0] for row in rows}


def build_titles(onet: Path, codes: set[str]) -> list[tuple[str, str, str]]:
    # Score each title by how widely it is attested: every alternate-title source counts one, a
    # reported title two (three when My Next Move shows it). The best-attested titles come first, so
    # "Software Engineer" leads its occupation rather than an alphabetical accident.
    scores: dict[str, dict[str, tuple[str, int, str]]] = defaultdict(dict)

    def note(code: str, title: str, points: int, kind: str) -> None:
        title = clean(title)
        if not title:
            return
        key = casefold_key(title)
        first, total, seen_kind = scores[code].get(key, (title, 0, kind))
        scores[code][key] = (first, total + points, "reported" if kind == "reported" else seen_kind)

    for row in read_tsv(onet / "Sample of Reported Titles.txt"):
        points = 3 if row["Shown in My Next Move"] == "Y" else 2
        note(row["O*NET-SOC Code"], row["Reported Job Title"], points, "reported")
    for row in read_tsv(onet / "Alternate Titles.txt"):
        sources = len([s for s in row["Source(s)"].split(",") if s.strip()])
        note(row["O*NET-SOC Code"], row["Alternate Title"], sources, "alternate")
    out: list[tuple[str, str, str]] = []
    for code in sorted(scores):
        if code not in codes:
            continue
        ranked = sorted(scores[code].values(), key=lambda item: (-item[1], len(item[0]), item[0]))
        out.extend((code, title, kind) for title, _score, kind in ranked[:TITLES_PER_OCCUPATION])
    return out


def build_tasks(onet: Path, codes: set[str]) -> list[tuple[str, str]]:
    order = {"Core": 0, "n/a": 1, "Supplemental": 2}
    by_code: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for row in read_tsv(onet / "Task Statements.txt"):
        task_type = order.get(row["Task Type"], 3)
        by_code[row["O*NET-SOC Code"]].append((task_type, int(row["Task ID"]), clean(row["Task"])))
    out: list[tuple[str, str]] = []
    for code in sorted(by_code):
        if code not in codes:
            continue
        picked = sorted(by_code[code])[:TASKS_PER_OCCUPATION]
        out.extend((code, task) for _t, _id, task in picked)
    return out


# ---------------------------------------------------------------- skill names


def _initials_match(words: Sequence[str], letters: str) -> int | None:
    """How many trailing `words` spell the acronym `letters`, or None.

    A word contributes its first letter, or all its capitals for CamelCase ("JavaScript" -> "JS");
    small connectives may be skipped ("Visual Basic for Applications" -> "VBA").
    """

    def options(word: str) -> list[str]:
        caps = "".join(ch for ch in word if ch.isupper())
        opts = [word[0].upper()]
        if len(caps) > 1:
            opts.append(caps)
        return opts

    def solve(end: int, remaining: str) -> int | None:
        if not remaining:
            return 0
        if end == 0:
            return None
        word = words[end - 1]
        for opt in options(word):
            if remaining.endswith(opt):
                used = solve(end - 1, remaining[: -len(opt)])
                if used is not None:
                    return used + 1
        if word.casefold() in ACRONYM_SKIP_WORDS:
            used = solve(end - 1, remaining)
            if used is not None:
                return used + 1
        return None

    return solve(len(words), letters.upper())


def _is_acronym(token: str) -> bool:
    return 2 <= len(token) <= 6 and token.isalpha() and token.isupper()


def short_name(example: str, *, collapse: bool = True) -> str:
    """A name people write for an O*NET technology example: spelled-out acronyms collapse
    ("Structured query language SQL" -> "SQL") and a generic trailing "software" goes when what is
    left is a proper name ("Microsoft Office software" -> "Microsoft Office")."""
    tokens = example.split()
    if not collapse:
        return _drop_software(tokens)
    for i, token in enumerate(tokens):
        if i == 0 or not _is_acronym(token):
            continue
        used = _initials_match(tokens[:i], token)
        if used is None and i >= 2 and all(t[:1].islower() for t in tokens[1:i]):
            # "Extensible markup language XML": a lower-case expansion the initials do not spell.
            used = i
        if used:
            tokens = [*tokens[: i - used], token, *tokens[i + 1 :]]
            break
    return _drop_software(tokens)


def _drop_software(tokens: list[str]) -> str:
    if len(tokens) >= 2 and tokens[-1] == "software":
        rest = tokens[:-1]
        if (len(rest) == 1 and _is_acronym(rest[0])) or (
            len(rest) >= 2 and all(t[:1].isupper() or t[:1].isdigit() for t in rest)
        ):
            tokens = rest
    return " ".join(tokens)


def strip_vendor(name: str) -> str | None:
    for vendor in VENDORS:
        if name.startswith(vendor + " "):
            rest = name[len(vendor) + 1 :].strip()
            # A bare English word ("Google Docs" -> "Docs", "Microsoft Word" -> "Word") would match
            # ordinary prose, so such remainders are not aliases.
            if len(rest) < 3 or rest.casefold() in GENERIC_WORDS:
                return None
            return rest
    return None


def strip_qualifier(label: str) -> str:
    """ESCO disambiguates with a parenthesis: "Python (computer programming)" -> "Python"."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", label).strip()


def split_alts(value: str) -> list[str]:
    parts = re.split(r"\s*\|\s*|\n", value)
    return [clean(part) for part in parts if clean(part)]


@dataclass
class SkillEntry:
    label: str
    kind: str
    hot: bool = False
    aliases: list[str] = field(default_factory=list)

    def add_aliases(self, names: Iterable[str]) -> None:
        for name in names:
            name = clean(name)
            if len(name) >= 1 and name not in self.aliases:
                self.aliases.append(name)

    def final_aliases(self) -> list[str]:
        seen = {casefold_key(self.label)}
        out: list[str] = []
        for alias in self.aliases:
            key = casefold_key(alias)
            if key in seen:
                continue
            seen.add(key)
            out.append(alias)
            if len(out) >= ALIASES_PER_SKILL:
                break
        return out


def read_esco(path: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for row in read_csv(path):
        if row.get("status", "released") != "released":
            continue
        label = clean(row["preferredLabel"])
        # Short aliases first: they are the ones that turn up in resumes and postings.
        alts = sorted(split_alts(row.get("altLabels", "")), key=lambda a: (len(a), a.casefold(), a))
        rows.append((label, alts))
    rows.sort(key=lambda r: (r[0].casefold(), r[0]))
    return rows


def build_skills(
    onet: Path, esco: Path, codes: set[str]
) -> tuple[list[SkillEntry], list[tuple[str, str, str, str, str]]]:
    """The skill taxonomy (label -> aliases) and the per-occupation technology rows that point into it."""
    tech_rows = read_tsv(onet / "Technology Skills.txt")
    digital = read_esco(esco / "digitalSkillsCollection_en.csv")
    transversal = read_esco(esco / "transversalSkillsCollection_en.csv")
    esco_labels = {casefold_key(strip_qualifier(label)) for label, _ in digital}

    examples = sorted({clean(row["Example"]) for row in tech_rows})
    hot_examples = {
        clean(row["Example"]) for row in tech_rows if row["Hot Technology"] == "Y" or row["In Demand"] == "Y"
    }
    shorts = {example: short_name(example) for example in examples}
    # A collapsed acronym can land on another technology ("Real estate application contract
    # transmission REACT software" vs "React") or on an unrelated expansion of the same letters.
    # Hot technologies keep the short name; the others keep their spelled-out form.
    groups: dict[str, list[str]] = defaultdict(list)
    for example, short in shorts.items():
        groups[casefold_key(short)].append(example)
    for members in groups.values():
        if len(members) < 2:
            continue
        any_hot = any(m in hot_examples for m in members)
        for member in members:
            collapsed = shorts[member] != short_name(member, collapse=False)
            if collapsed and not (any_hot and member in hot_examples):
                shorts[member] = short_name(member, collapse=False)
    entries: dict[str, SkillEntry] = {}
    label_of: dict[str, str] = {}
    for example in examples:
        short = shorts[example]
        vendorless = strip_vendor(short)
        label = short
        if vendorless and casefold_key(vendorless) in esco_labels:
            label = vendorless
        key = casefold_key(label)
        entry = entries.setdefault(key, SkillEntry(label=label, kind="technology"))
        entry.hot = entry.hot or example in hot_examples
        trailing = example.split()[-1]
        expansion: list[str] = []
        if short != short_name(example, collapse=False):
            # The spelled-out form is written too ("Amazon Web Services", "Structured query language").
            acronyms = {t for t in short.split() if _is_acronym(t)}
            words = [t for t in example.split() if t not in acronyms]
            expansion.append(_drop_software(words) if len(words) > 2 else " ".join(words))
        extra = [
            example,
            short,
            *expansion,
            *([vendorless] if vendorless else []),
            *([trailing] if trailing.isupper() and len(trailing) >= 2 and trailing != label else []),
        ]
        entry.add_aliases(extra)
        label_of[example] = entry.label

    for label, alts in digital:
        key = casefold_key(strip_qualifier(label))
        if key in entries:
            entries[key].add_aliases([label, *alts])
        else:
            entries.setdefault(casefold_key(label), SkillEntry(label=label, kind="digital")).add_aliases(alts)
    for label, alts in transversal:
        entries.setdefault(casefold_key(label), SkillEntry(label=label, kind="transversal")).add_aliases(alts)

    # Rank technologies within an occupation: In Demand, then Hot, then the rest; ties go to the
    # technologies hot in more occupations (the ones employers post most), then by name.
    popularity = Counter(
        clean(row["Example"]) for row in tech_rows if row["Hot Technology"] == "Y" or row["In Demand"] == "Y"
    )
    by_code: dict[str, dict[str, tuple[bool, bool]]] = defaultdict(dict)
    for row in tech_rows:
        example = clean(row["Example"])
        by_code[row["O*NET-SOC Code"]][example] = (row["Hot Technology"] == "Y", row["In Demand"] == "Y")
    per_occupation: list[tuple[str, str, str, str, str]] = []
    for code in sorted(by_code):
        if code not in codes:
            continue
        ranked = sorted(
            by_code[code].items(),
            key=lambda item: (
                not item[1][1],
                not item[1][0],
                -popularity[item[0]],
                item[0].casefold(),
                item[0],
            ),
        )
        seen_labels: set[str] = set()
        for example, (hot, demand) in ranked:
            label = label_of[example]
            if label in seen_labels:
                continue
            seen_labels.add(label)
            per_occupation.append((code, example, label, "Y" if hot else "N", "Y" if demand else "N"))
            if len(seen_labels) >= TECH_PER_OCCUPATION:
                break
    ordered = sorted(entries.values(), key=lambda e: (e.label.casefold(), e.label))
    return ordered, per_occupation


# ---------------------------------------------------------------- BLS


def parse_wage(value: str, top: float) -> tuple[float | None, bool]:
    value = value.strip()
    if value == "#":
        return top, True
    if not value or value.startswith("*"):
        return None, False
    return float(value.replace(",", "")), False


def build_wages(bls: Path) -> list[list[object]]:
    out: list[list[object]] = []
    for row in read_csv(bls / "oews_national_may2024.csv"):
        if row["O_GROUP"] not in ("detailed", "broad"):
            continue
        top_coded: list[str] = []
        values: list[object] = []
        for column in ANNUAL_COLUMNS:
            number, capped = parse_wage(row[column], TOP_CODED_ANNUAL)
            values.append(None if number is None else round(number))
            if capped:
                top_coded.append(column)
        for column in HOURLY_COLUMNS:
            number, capped = parse_wage(row[column], TOP_CODED_HOURLY)
            values.append(None if number is None else f"{number:.2f}")
            if capped:
                top_coded.append(column)
        employment = row["TOT_EMP"].replace(",", "").strip()
        out.append(
            [
                row["OCC_CODE"],
                clean(row["OCC_TITLE"]),
                row["O_GROUP"],
                int(employment) if employment.isdigit() else None,
                *values,
                ";".join(top_coded),
                "Y" if row["ANNUAL"].strip().upper() == "TRUE" else "N",
                "Y" if row["HOURLY"].strip().upper() == "TRUE" else "N",
            ]
        )
    out.sort(key=lambda r: str(r[0]))
    return out


# ---------------------------------------------------------------- attribution

ATTRIBUTION = """# Reference data: sources, licences and changes

The files in this folder are generated by `python -m tools.reference.build` from the sources below. They
are compact derived tables (subsets and reformatting), not copies of the source files.

## O*NET 29.2 Database

Files: `occupations.csv.gz`, `titles.csv.gz`, `tech_skills.csv.gz`, `tasks.csv.gz`, `skills.csv.gz`.

This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor,
Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a
trademark of USDOL/ETA. USDOL/ETA has not approved, endorsed, or tested these modifications.

Source: https://www.onetcenter.org/database.html (Occupation Data, Job Zones, Alternate Titles, Sample of
Reported Titles, Technology Skills, Task Statements). Licence:
https://creativecommons.org/licenses/by/4.0/

Changes: descriptions truncated to about {desc} characters; at most {titles} titles per occupation
(reported and alternate titles ranked by how many O*NET sources list them); at most {tech} technology
examples per occupation (In Demand, then Hot Technology, then the rest), each mapped to a short skill
label (spelled-out acronyms collapsed, e.g. "Structured query language SQL" -> "SQL"); at most {tasks}
task statements per occupation (Core first); commodity codes, dates, incumbent counts and domain sources
dropped.

## ESCO — `skills.csv.gz` (kinds `digital` and `transversal`, and aliases merged into `technology` entries)

ESCO v1.2.0, © European Union, https://esco.ec.europa.eu — digital skills collection and transversal
skills collection. Reused under the European Commission's reuse policy (Decision 2011/833/EU), CC BY 4.0:
https://creativecommons.org/licenses/by/4.0/

Changes: only released concepts' preferred labels and alternative labels are kept (concept URIs,
descriptions and hierarchy dropped); at most {aliases} aliases per skill (shortest first); where an ESCO
label names the same technology as an O*NET example (ignoring ESCO's parenthetical qualifier, e.g.
"Python (computer programming)"), the two are merged under one label and ESCO's labels become aliases.

The northstar ESCO alias file (`esco_skills_aliases_northstar.csv`, MIT) is not used.

## BLS OEWS May 2024 — `wages.csv.gz`

U.S. Bureau of Labor Statistics, Occupational Employment and Wage Statistics, May 2024 (national
estimates), https://www.bls.gov/oes/tables.htm. Work of the U.S. federal government, public domain in the
U.S.

Changes: detailed and broad SOC rows only; columns TOT_EMP, A_PCT10, A_PCT25, A_MEDIAN, A_PCT75, A_PCT90,
H_PCT25, H_MEDIAN, H_PCT75, ANNUAL, HOURLY. Top-coded values (`#`) are written as {top_a} (annual) or
{top_h:.2f} (hourly) and the column names listed in `top_coded`; unavailable values (`*`, `**`) are left
empty."""


# ---------------------------------------------------------------- main


def build(shared: Path, out_dir: Path = OUT_DIR) -> dict[str, int]:
    onet, esco, bls = shared / "onet", shared / "esco", shared / "bls_oews"
    for folder in (onet, esco, bls):
        if not folder.is_dir():
            raise SystemExit(f"missing source folder: {folder}")
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    occupations, codes = build_occupations(onet)
    counts["occupations"] = write_csv_gz(
        out_dir / "occupations.csv.gz", ("code", "title", "job_zone", "description"), occupations
    )
    counts["titles"] = write_csv_gz(
        out_dir / "titles.csv.gz", ("code", "title", "kind"), build_titles(onet, codes)
    )
    counts["tasks"] = write_csv_gz(out_dir / "tasks.csv.gz", ("code", "task"), build_tasks(onet, codes))
    skills, tech = build_skills(onet, esco, codes)
    counts["tech_skills"] = write_csv_gz(
        out_dir / "tech_skills.csv.gz", ("code", "example", "label", "hot", "in_demand"), tech
    )
    for entry in skills:
        for alias in [entry.label, *entry.final_aliases()]:
            if "|" in alias:
                raise SystemExit(f"alias contains the separator: {alias!r}")
    counts["skills"] = write_csv_gz(
        out_dir / "skills.csv.gz",
        ("label", "kind", "hot", "aliases"),
        (
            (entry.label, entry.kind, "Y" if entry.hot else "N", "|".join(entry.final_aliases()))
            for entry in skills
        ),
    )
    counts["wages"] = write_csv_gz(
        out_dir / "wages.csv.gz",
        (
            "soc",
            "title",
            "group",
            "employment",
            *(c.lower() for c in ANNUAL_COLUMNS),
            *(c.lower() for c in HOURLY_COLUMNS),
            "top_coded",
            "annual_only",
            "hourly_only",
        ),
        build_wages(bls),
    )
    (out_dir / "ATTRIBUTION.md").write_text(
        ATTRIBUTION.format(
            desc=DESCRIPTION_CHARS,
            titles=TITLES_PER_OCCUPATION,
            tech=TECH_PER_OCCUPATION,
            tasks=TASKS_PER_OCCUPATION,
            aliases=ALIASES_PER_SKILL,
            top_a=TOP_CODED_ANNUAL,
            top_h=TOP_CODED_HOURLY,
        ).rstrip()
        + "\n",
        encoding="utf-8",
    )
    manifest = {"counts": counts, "sources": ["O*NET 29.2", "ESCO v1.2.0", "BLS OEWS May 2024"]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data folder")
    args = parser.parse_args(argv)
    counts = build(args.shared)
    total = sum(path.stat().st_size for path in OUT_DIR.iterdir() if path.is_file())
    for name, count in counts.items():
        print(f"{name:12} {count:7d} rows")
    print(f"written to {OUT_DIR} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

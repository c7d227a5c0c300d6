"""Compact reference tables derived from O*NET 29.2, ESCO and BLS OEWS (see `data/ATTRIBUTION.md`)."""

from tools.reference.tables import (
    Occupation,
    Skill,
    SkillMatcher,
    TechSkill,
    Wage,
    normalise_title,
    occupations,
    skill_aliases,
    skills,
    tasks,
    tech_matcher,
    tech_skills,
    title_index,
    titles,
    wages,
)

__all__ = [
    "Occupation",
    "Skill",
    "SkillMatcher",
    "TechSkill",
    "Wage",
    "normalise_title",
    "occupations",
    "skill_aliases",
    "skills",
    "tasks",
    "tech_matcher",
    "tech_skills",
    "title_index",
    "titles",
    "wages",
]

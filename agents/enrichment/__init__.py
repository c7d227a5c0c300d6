"""Structured candidate profiles and requisitions from resume text, postings and iCIMS fields.

Deterministic by default (`enrich`); `make_extractor(settings)` returns an LLM extractor instead when
`settings.llm_base_url` is set. Every extracted item carries `Evidence` with a verbatim quote and offsets.
"""

from agents.enrichment.credentials import canonical_certification, degree_level, find_certifications
from agents.enrichment.llm import DeterministicExtractor, Extractor, LLMExtractor, make_extractor
from agents.enrichment.profile import EXTRACTOR_VERSION, enrich, profile_source_text
from agents.enrichment.requisition import parse_requirements, requisition_from_job, requisition_from_posting
from agents.enrichment.skills import canonical_skill, find_skills, find_term, skill_index
from agents.enrichment.titles import TitleMatch, map_title, occupation_similarity, tier_from_title

__all__ = [
    "EXTRACTOR_VERSION",
    "DeterministicExtractor",
    "Extractor",
    "LLMExtractor",
    "TitleMatch",
    "canonical_certification",
    "canonical_skill",
    "degree_level",
    "enrich",
    "find_certifications",
    "find_skills",
    "find_term",
    "make_extractor",
    "map_title",
    "occupation_similarity",
    "parse_requirements",
    "profile_source_text",
    "requisition_from_job",
    "requisition_from_posting",
    "skill_index",
    "tier_from_title",
]

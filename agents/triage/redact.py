"""PII redaction of resume text before it can leave the process (an LLM call) or reach a record.

Removes what identifies or contacts a person: their names (from the iCIMS person record), email
addresses, phone numbers, web and profile links, street addresses and postal codes. Skills, titles,
employers, dates, city and state stay: scoring needs them and they do not identify anyone alone.
Each kind is replaced by a fixed token ("[EMAIL]"), so the text keeps its shape and quotes taken
from the redacted text stay verbatim in it.

The patterns live in `tools.llm.pii`, shared with the model door (which swaps the same kinds for
numbered placeholders on every model call); triage keeps its one-way, fixed-token form.
"""

from __future__ import annotations

from tools.llm.pii import REDACTOR_VERSION, Redacted, person_names, redact

__all__ = ["REDACTOR_VERSION", "Redacted", "person_names", "redact"]

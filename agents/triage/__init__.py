"""High-volume application triage (issue 7): policy, redaction, scoring and routing, decisions.

Pure domain logic; `graphs/triage.py` reads iCIMS and the mirror, asks for approval and writes back.
"""

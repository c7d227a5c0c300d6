"""High-volume application triage: policy, redaction, scoring and routing, decisions.

Pure domain logic; the `graphs.triage` package reads iCIMS, the mirror and the policy file, asks for
approval and writes back.
"""

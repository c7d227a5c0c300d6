"""Typed async client for the iCIMS REST API (API_NOTES, docs/RECORDS.md).

Modules: `client` (ICIMSClient, BinaryFile), `auth` (OAuth2 client credentials, Basic, HMAC),
`budget` (Priority, RequestBudget), `errors`, `retry`, `search` (query builder), `models` (pydantic
views), `tools` (read-only LangChain tools), `formats` (iCIMS date texts). Nothing is imported here
so that importing `tools.icims.formats` stays cheap.
"""

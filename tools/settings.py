"""The one configuration class. Every knob is an env var with the ICIMS_AGENTS_ prefix or a line in .env."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.events.models import SANDBOX_EVENTS_TENANT, EventTenant

# Logical output name -> tenant custom field id. Tenants differ; override with
# ICIMS_AGENTS_FIELD_MAP='{"ai_score": "field61001", ...}'.
DEFAULT_FIELD_MAP: dict[str, str] = {
    "ai_score": "field51224",
    "ai_tier": "field51225",
    "ai_reasons": "field51226",
    "ai_flags": "field51227",
    "ai_model_version": "field51228",
    "ai_processed_at": "field51229",
    "enrichment_tags": "field51230",
    "consent_status": "field51231",
    "consent_expires": "field51232",
    "opt_out": "field51233",
    "do_not_contact": "field51234",
    "last_contacted": "field51235",
    "nurture_campaign": "field51236",
    "nurture_step": "field51237",
    "remote_preference": "field51238",
    "offer_status": "field51239",
    "offer_letter": "field51240",
    # Requisition facts the tenant keeps on the job profile.
    "job_must_have_skills": "field52001",
    "job_nice_to_have_skills": "field52002",
    "job_soc_code": "field52003",
    "job_salary_min": "field52004",
    "job_salary_max": "field52005",
    "job_remote": "field52006",
}

# Published with the sandbox (sandbox/config.py, the defaults below, the sandbox event tenant): anyone
# may know them, so they are refused against any tenant that is not the local sandbox.
SANDBOX_SECRETS = frozenset(
    {
        "sandbox-secret",
        "sandbox-password",
        "sandbox-hmac-secret",
        *(
            str(v)
            for k, v in SANDBOX_EVENTS_TENANT.items()
            if k in ("hmac_secret", "password", "client_secret")
        ),
    }
)
# Values people type while setting up ("changethis" is the FastAPI full-stack template's).
_PLACEHOLDER = re.compile(r"^(change[-_ ]?(this|me|it)|secret|password|placeholder|todo|x+|\*+)$", re.I)
# Which ICIMS_AGENTS_ICIMS_* secret each auth mode sends (the others may be left empty).
_AUTH_MODE_SECRET = {"oauth": "icims_client_secret", "basic": "icims_password", "hmac": "icims_hmac_secret"}


def is_loopback_url(url: str | None) -> bool:
    """Whether a URL's host is this machine: localhost, 127.0.0.0/8 or ::1."""
    host = (urlsplit(url or "").hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(value: str, *, required: bool) -> str | None:
    """Why a secret may not be used against a real tenant, or None."""
    if value in SANDBOX_SECRETS:
        return "is the sandbox's published value"
    if _PLACEHOLDER.match(value.strip()):
        return f"is a placeholder ({value.strip()!r})"
    if required and not value:
        return "is empty"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ICIMS_AGENTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # iCIMS tenant (defaults point at the local sandbox started by `icims-agents sandbox`).
    icims_base_url: str = "http://127.0.0.1:8790"
    icims_customer_id: int = 1000
    icims_auth_mode: Literal["oauth", "basic", "hmac"] = "oauth"
    icims_token_url: str | None = Field(
        default=None, description="OAuth token endpoint; defaults to {icims_base_url}/oauth/token"
    )
    icims_client_id: str = "sandbox-client"
    icims_client_secret: SecretStr = SecretStr("sandbox-secret")
    icims_audience: str = "https://api.icims.com/v1/"
    icims_username: str = "sandbox-user"
    icims_password: SecretStr = SecretStr("sandbox-password")
    icims_hmac_user: str = "sandbox-hmac"
    icims_hmac_secret: SecretStr = SecretStr("sandbox-hmac-secret")
    icims_timeout_seconds: float = 30.0
    icims_max_retries: int = 6
    icims_max_concurrency: int = 8

    field_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_FIELD_MAP))

    # Daily request quota and the share kept back from background sync.
    quota_daily_limit: int = 10_000
    quota_reserve_realtime: int = 1_000
    quota_reserve_writes: int = 500

    # Local state and backend choices.
    data_dir: Path = Path("var")
    mirror_url: str | None = Field(default=None, description="SQLAlchemy URL; defaults to SQLite in data_dir")
    checkpointer_url: str | None = None
    queue_backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    vector_backend: Literal["memory", "pinecone"] = "memory"
    # Rediscovery's candidate index is built at service start and rebuilt in the background when the
    # mirror changed, checked this often (0: build at start only); see server/pool_warmer.py.
    rediscovery_pool_refresh_seconds: float = 60.0
    rediscovery_pool_warm: bool = True
    pinecone_api_key: SecretStr | None = None
    pinecone_index_host: str | None = None
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None

    log_level: str = "INFO"
    log_json: bool = False

    # --- events, queue and worker (issue 7; owner: intake) ---
    # Who may post events, per iCIMS customer id (JSON): auth "hmac" | "basic" | "bearer" and its
    # credentials, and how a duplicate is answered ("error": 400 vendor error, as iCIMS's integration
    # review expects; "ok": the first reply again). The default matches the sandbox webhook the demo
    # registers (`tools.events.models.SANDBOX_EVENTS_TENANT`).
    events_tenants: dict[str, EventTenant] = Field(
        default_factory=lambda: {"1000": EventTenant.model_validate(SANDBOX_EVENTS_TENANT)}
    )
    events_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir")
    events_max_body_bytes: int = 64 * 1024  # as sent (gzip'd)
    events_max_json_bytes: int = 256 * 1024  # after decompression
    events_dedupe_window_seconds: float = 7 * 86_400  # the same payload again within this = duplicate
    events_hmac_max_skew_seconds: float | None = 900  # x-icims-date this far off is refused; None: off
    events_token_ttl_seconds: int = 86_400
    events_handlers: dict[str, str] = Field(
        default_factory=dict, description='handler name -> "module:function", overrides routing'
    )
    queue_name: str = "icims-agents"
    queue_workers: int = 2
    queue_max_attempts: int = 5
    queue_retry_base_seconds: float = 2.0  # doubled per failed attempt
    queue_retry_max_seconds: float = 300.0
    queue_quota_probe_seconds: float = 300.0  # while quota-waiting, one event retries this often
    queue_sweep_seconds: float = 2.0
    queue_lease_seconds: float = 900.0  # a running row older than this is presumed abandoned

    # --- triage (issue 7; owner: triage) ---
    # The per-requisition mode/threshold policy (YAML); None = the packaged agents/triage/policy.yaml.
    triage_policy_path: Path | None = None
    # Replaces the policy's default mode (requisitions listed in the policy keep theirs).
    triage_mode: Literal["shadow", "assist", "auto"] | None = None
    # Mirrored people/workflows older than this are read from iCIMS again (realtime budget).
    triage_mirror_max_age_hours: float = Field(default=24.0, gt=0)
    # Audit records are never deleted by the service; this is the minimum they are kept (EU AI Act
    # Art. 26(6): at least six months), reported by `icims-agents audit verify`.
    audit_retention_days: int = Field(default=183, ge=183)

    # --- nurture and email (issue 5; owner: nurture) ---
    email_transport: Literal["outbox", "smtp"] = "outbox"  # outbox: .eml files in data_dir/outbox
    email_from_address: str = "talent@example.com"
    email_from_name: str = "Talent Team"
    email_domain: str = Field(default="example.com", description="right-hand side of Message-IDs")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 30.0
    nurture_database_url: str | None = Field(default=None, description="defaults to SQLite in data_dir")
    nurture_campaign_dir: Path | None = Field(default=None, description="extra campaign YAML files")
    nurture_public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="where candidates reach /nurture/unsubscribe"
    )
    nurture_unsubscribe_secret: SecretStr | None = None  # default: a random key kept in data_dir
    nurture_global_min_days_between: int = 7  # across every campaign
    nurture_global_max_per_30_days: int = 3
    # Admin policy: these campaigns' unchanged template drafts are sent without a human approval
    # (recorded in the audit as the policy that approved them).
    nurture_auto_approve_campaigns: list[str] = Field(default_factory=list)

    # --- offers (issue 6; owner: offer) ---
    # Folder with the tenant's approval_policy.yaml / band_method.yaml / pay_bands.csv.gz (each file
    # missing there falls back to the packaged default in agents/offer/data).
    offer_policy_dir: Path | None = None
    # Where rendered letters (PDF, DOCX) are kept per offer version; default data_dir/offers.
    offer_files_dir: Path | None = None
    # Who may sign each approval step beyond the recruiter's, by policy role: key names, e.g.
    # {"comp_partner": ["Priya"], "vp": ["Sam"], "legal": ["Lee"]}. A role not listed here may be
    # signed by an admin key; the recruiter step by the requisition's recruiter or an admin.
    offer_approvers: dict[str, list[str]] = Field(default_factory=dict)
    # The employer named in letters; default: the requisition's company in iCIMS.
    offer_company_name: str | None = None

    # --- audit chain key and anchor (kept outside the audit database) ---
    # HMAC key of the audit chain's record hashes; default: a random key created once as data_dir/audit.key.
    audit_key: SecretStr | None = None
    # Append-only file every audit append writes `seq hash` to; default data_dir/audit.anchor.
    audit_anchor_path: Path | None = None

    @model_validator(mode="after")
    def _no_sandbox_secrets_outside_the_sandbox(self) -> Settings:
        """Against anything but a loopback iCIMS (the sandbox), every secret must be the tenant's own:
        the sandbox's published secrets would let anyone sign events or reach the tenant."""
        if self.sandbox_mode:
            return self
        problems: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                why = _refused(
                    value.get_secret_value(), required=_AUTH_MODE_SECRET[self.icims_auth_mode] == name
                )
                if why:
                    problems.append(f"ICIMS_AGENTS_{name.upper()} {why}")
        for customer, tenant in self.events_tenants.items():
            for name in ("hmac_secret", "password", "client_secret"):
                secret = getattr(tenant, name)
                why = secret is not None and _refused(secret.get_secret_value(), required=True)
                if why:
                    problems.append(f"ICIMS_AGENTS_EVENTS_TENANTS[{customer!r}].{name} {why}")
        if problems:
            raise ValueError(
                f"ICIMS_AGENTS_ICIMS_BASE_URL {self.icims_base_url} is not the local sandbox, so every "
                "secret must be the tenant's own: "
                + "; ".join(problems)
                + " (an auth mode's unused ICIMS_AGENTS_ICIMS_* secret may be left empty)"
            )
        return self

    @property
    def sandbox_mode(self) -> bool:
        """iCIMS is the local sandbox (loopback base and token URL): sandbox secrets and demo keys are
        allowed only then."""
        return is_loopback_url(self.icims_base_url) and (
            self.icims_token_url is None or is_loopback_url(self.icims_token_url)
        )

    @property
    def token_url(self) -> str:
        return self.icims_token_url or f"{self.icims_base_url.rstrip('/')}/oauth/token"

    @property
    def mirror_database_url(self) -> str:
        return self.mirror_url or f"sqlite:///{self.data_dir / 'mirror.sqlite'}"


@lru_cache(maxsize=8)
def get_settings(env_file: str | None = None) -> Settings:
    if env_file:
        return Settings(_env_file=env_file)
    return Settings()

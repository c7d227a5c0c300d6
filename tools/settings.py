"""The one configuration class. Every knob is an env var with the ICIMS_AGENTS_ prefix or a line in .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    pinecone_api_key: SecretStr | None = None
    pinecone_index_host: str | None = None
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None

    log_level: str = "INFO"
    log_json: bool = False

    # --- events, queue and worker (issue 7; owner: intake) ---

    # --- triage (issue 7; owner: triage) ---

    # --- nurture and email (issue 5; owner: nurture) ---

    # --- offers (issue 6; owner: offer) ---

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

"""Sandbox configuration (docs/RECORDS.md) and the client settings that reach a running sandbox."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class FaultConfig(BaseModel):
    """Injected failures; mutable at runtime through `PUT /_sandbox/faults`.

    Rates are probabilities per customer API request, drawn from an RNG seeded with `seed` so a
    test sees the same sequence of faults on every run.
    """

    rate_429: float = Field(default=0.0, ge=0.0, le=1.0)
    rate_5xx: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0)
    retry_after_seconds: int = Field(default=1, ge=0)
    # One-shot: the next customer request invalidates every token issued so far, then this resets.
    expire_tokens: bool = False
    seed: int = 0


class SandboxConfig(BaseModel):
    customer_id: int = 1000
    people: int = 200
    seed: int = 7
    # Folder of the evaluation dev split (../shared/data/eval); loaded on start when it exists.
    eval_data: Path | None = None
    daily_limit: int = 10_000
    quota_status: int = 429
    oauth_clients: dict[str, str] = Field(default_factory=lambda: {"sandbox-client": "sandbox-secret"})
    basic_users: dict[str, str] = Field(default_factory=lambda: {"sandbox-user": "sandbox-password"})
    hmac_users: dict[str, str] = Field(default_factory=lambda: {"sandbox-hmac": "sandbox-hmac-secret"})
    token_ttl_seconds: int = 86_400
    token_throttle: int = 500
    faults: FaultConfig = Field(default_factory=FaultConfig)
    # Profile type (`people`, `jobs`, ..., `applicantworkflows`) -> field ids that must not be empty.
    required_fields: dict[str, list[str]] = Field(default_factory=dict)


def client_env(config: SandboxConfig, base_url: str) -> dict[str, str]:
    """The `ICIMS_AGENTS_*` variables (names of `tools.settings.Settings` fields) a client needs."""
    base = base_url.rstrip("/")
    env = {
        "ICIMS_AGENTS_ICIMS_BASE_URL": base,
        "ICIMS_AGENTS_ICIMS_CUSTOMER_ID": str(config.customer_id),
        "ICIMS_AGENTS_ICIMS_AUTH_MODE": "oauth",
        "ICIMS_AGENTS_ICIMS_TOKEN_URL": f"{base}/oauth/token",
        "ICIMS_AGENTS_QUOTA_DAILY_LIMIT": str(config.daily_limit),
    }
    # The first configured credential of each kind; a config without one simply omits its variables.
    credentials = {
        ("ICIMS_AGENTS_ICIMS_CLIENT_ID", "ICIMS_AGENTS_ICIMS_CLIENT_SECRET"): config.oauth_clients,
        ("ICIMS_AGENTS_ICIMS_USERNAME", "ICIMS_AGENTS_ICIMS_PASSWORD"): config.basic_users,
        ("ICIMS_AGENTS_ICIMS_HMAC_USER", "ICIMS_AGENTS_ICIMS_HMAC_SECRET"): config.hmac_users,
    }
    for (name_var, secret_var), users in credentials.items():
        for name, secret in users.items():
            env[name_var] = name
            env[secret_var] = secret
            break
    return env

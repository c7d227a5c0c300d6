"""The campaign catalogue: YAML files shipped in `agents/nurture/campaigns/` and in the settings'
`nurture_campaign_dir`, plus campaigns created through the API (their JSON passed in from
`tools.nurture.store.NurtureStore`; a stored campaign with the same id as a file replaces it)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import yaml
from pydantic import ValidationError

from agents.nurture.drafting import template_exists
from agents.nurture.models import Campaign


class CampaignSource(Protocol):
    """Where the API-defined campaigns are kept (`tools.nurture.store.NurtureStore`)."""

    def campaign_definitions(self) -> list[str]: ...


CAMPAIGN_DIR = Path(__file__).resolve().parent / "campaigns"


class CampaignError(ValueError):
    """A campaign definition that cannot be used (bad YAML, invalid fields, unknown template)."""


def parse_campaign(data: object, *, origin: str = "request") -> Campaign:
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise CampaignError(
            f"{origin}: {where}: {first['msg']}" if where else f"{origin}: {first['msg']}"
        ) from None
    missing = [s.template for s in campaign.steps if not template_exists(s.template)]
    if missing:
        raise CampaignError(f"{origin}: unknown template(s): {', '.join(missing)} (prompts/nurture/)")
    return campaign


def load_yaml(path: Path) -> Campaign:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CampaignError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_campaign(data, origin=path.name)


def yaml_campaigns(extra_dir: Path | None = None) -> dict[str, Campaign]:
    out: dict[str, Campaign] = {}
    for folder in (CAMPAIGN_DIR, extra_dir):
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).glob("*.y*ml")):
            campaign = load_yaml(path)
            out[campaign.id] = campaign
    return out


def all_campaigns(store: CampaignSource, extra_dir: Path | None = None) -> dict[str, Campaign]:
    campaigns = yaml_campaigns(extra_dir)
    stored = (Campaign.model_validate_json(text) for text in store.campaign_definitions())
    campaigns.update({c.id: c for c in stored})
    return dict(sorted(campaigns.items()))


def get_campaign(store: CampaignSource, campaign_id: str, extra_dir: Path | None = None) -> Campaign:
    campaigns = all_campaigns(store, extra_dir)
    if campaign_id not in campaigns:
        known = ", ".join(campaigns) or "none"
        raise LookupError(f"no campaign {campaign_id!r}; known: {known}")
    return campaigns[campaign_id]

"""Typed run parameters shared by the flows, with the contract's defaults."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Scoring(BaseModel):
    """Criterion weights (equal by default) and shortlist size (10 by default)."""

    weight_cooperation: float = Field(1.0, ge=0, description="Weight of intergovernmental cooperation")
    weight_prospects: float = Field(1.0, ge=0, description="Weight of project prospects")
    weight_business: float = Field(1.0, ge=0, description="Weight of Korean business collaboration")
    shortlist_size: int = Field(10, ge=1, le=100, description="Countries shortlisted (rank <= N)")
    trim_reviews: bool = Field(
        False,
        description="With 5+ reviews of a request, drop the highest and lowest rating of each criterion",
    )
    normalize_ministries: bool = Field(
        False, description="Score on per-ministry z-scores (evens out lenient and harsh reviewers)"
    )

    def sql_params(self) -> dict:
        """The named parameters the mart SQL takes."""
        if self.weight_cooperation + self.weight_prospects + self.weight_business <= 0:
            raise ValueError("at least one criterion weight must be positive")
        return {
            "w_cooperation": self.weight_cooperation,
            "w_prospects": self.weight_prospects,
            "w_business": self.weight_business,
            "shortlist_size": self.shortlist_size,
            "trim_reviews": self.trim_reviews,
            "normalize_ministries": self.normalize_ministries,
        }


# The flows' `scoring` parameter as the Prefect UI shows it (title and description).
SCORING_PARAM = Field(
    None,
    description="Criterion weights, shortlist size, trimmed mean, per-ministry normalisation.",
    json_schema_extra={"title": "Scoring"},
)

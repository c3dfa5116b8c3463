"""Response shapes of the crop catalogue (GET /crops), apart from models.py to keep each
module small; built on first use like every Outbound model."""

from __future__ import annotations

from pydantic import Field

from harvest.api.models import Outbound, QuantityOut


class CropUnitOut(Outbound):
    unit: str
    to_canonical: QuantityOut = Field(
        description="How many of the crop's canonical unit one of this unit is."
    )
    whole_numbers: bool = Field(description="True for count units: quantities are whole.")


class CropOut(Outbound):
    crop: str = Field(description="The slug that bodies and queries take as `crop`.")
    name: str
    category: str
    canonical_unit: str = Field(description="The unit signals and aggregates are counted in.")
    units: list[CropUnitOut]


class CropCatalogOut(Outbound):
    items: list[CropOut]

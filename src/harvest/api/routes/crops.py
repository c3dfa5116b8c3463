"""The crop catalogue: which crops exist, their units and conversions. Public and cacheable:
it changes only with a deployment."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import catalog_models as models
from harvest.api import http
from harvest.domain.crops import COUNT_UNITS, load_catalog

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
CACHE_CONTROL = "public, max-age=3600"


@cache
def catalogue() -> models.CropCatalogOut:
    return models.CropCatalogOut(
        items=[
            models.CropOut(
                crop=crop.slug,
                name=crop.name,
                category=crop.category,
                canonical_unit=crop.canonical_unit,
                units=[
                    models.CropUnitOut(
                        unit=unit, to_canonical=crop.units[unit], whole_numbers=unit in COUNT_UNITS
                    )
                    for unit in crop.allowed_units
                ],
            )
            for crop in sorted(load_catalog(), key=lambda crop: crop.slug)
        ]
    )


@router.get(
    "/crops",
    summary="The crop catalogue: crops, their units and conversions (no auth, cacheable)",
    responses=http.documented(200, models.CropCatalogOut, "Every crop"),
)
def list_crops() -> Response[str]:
    return http.json_response(catalogue(), headers={"Cache-Control": CACHE_CONTROL})

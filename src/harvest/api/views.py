"""Entities -> response models. Decides what each viewer may see of a place."""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum

from pydantic import BaseModel

from harvest.api import match_models, models
from harvest.domain import geo
from harvest.domain.advice import Advice
from harvest.domain.claim import Claim
from harvest.domain.common import PUBLIC_GEOHASH_PRECISION, Location, iso
from harvest.domain.listing import Listing
from harvest.domain.profile import Profile
from harvest.domain.request import Request
from harvest.domain.signals import CropSignal
from harvest.services.feed import FeedItem
from harvest.services.guidance import Explanation, GuidanceStatus
from harvest.services.my_matches import MatchView
from harvest.services.signals import AreaSignalsView


def location(place: Location, exact: bool) -> models.LocationOut:
    """Owners see their exact point; everyone else the centre of a ~5 km cell."""
    if exact:
        return models.LocationOut(geohash=place.geohash, lat=place.lat, lon=place.lon, exact=True)
    public = place.geohash[:PUBLIC_GEOHASH_PRECISION]
    lat, lon = geo.approximate(place.lat, place.lon, PUBLIC_GEOHASH_PRECISION)
    return models.LocationOut(geohash=public, lat=lat, lon=lon, exact=False)


def shown[Out: BaseModel](entity: object, model: type[Out], **computed: object) -> Out:
    """The response `model` filled from the entity's attributes of the same names (a moment
    as ISO-8601, an enum as its value), and `computed` for what the viewer decides (the
    place). A new entity field reaches the API by its response model naming it, not here;
    an attribute the response model does not name (correlationId) is never shown."""
    values: dict[str, object] = {}
    for name in model.model_fields:
        if name in computed or not hasattr(entity, name):
            continue
        value = getattr(entity, name)
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, Enum):
            value = value.value
        values[name] = value
    return model(**values, **computed)


def listing(entity: Listing, viewer_id: str | None) -> models.ListingOut:
    place = location(entity.location, exact=viewer_id == entity.owner_id)
    return shown(entity, models.ListingOut, location=place)


def request(entity: Request, viewer_id: str | None) -> models.RequestOut:
    place = location(entity.location, exact=viewer_id == entity.owner_id)
    return shown(entity, models.RequestOut, location=place)


def claim(entity: Claim) -> models.ClaimOut:
    return shown(entity, models.ClaimOut)


def profile(entity: Profile) -> models.ProfileOut:
    home = location(entity.home_location, exact=True) if entity.home_location else None
    return shown(entity, models.ProfileOut, home_location=home)


def feed_distance(distance_km: float) -> float:
    """The feed measures to the published cell centre (never the exact point), for owners
    too, so its order and distances agree; shown rounded up to the next half kilometre."""
    return math.ceil(round(distance_km * 2, 9)) / 2


def feed_item(item: FeedItem, viewer_id: str) -> models.ListingFeedItem | models.RequestFeedItem:
    distance = feed_distance(item.distance_km)
    if isinstance(item.entity, Listing):
        body = listing(item.entity, viewer_id).model_dump()
        return models.ListingFeedItem(**body, kind="listing", distance_km=distance)
    body = request(item.entity, viewer_id).model_dump()
    return models.RequestFeedItem(**body, kind="request", distance_km=distance)


def crop_signal(signal: CropSignal) -> models.CropSignalOut:
    return models.CropSignalOut(
        crop=signal.crop,
        unit=signal.unit,
        supply=signal.supply,
        demand=signal.demand,
        listings=signal.listings,
        requests=signal.requests,
        scarcity=signal.scarcity,
        abundance=signal.abundance,
        classification=signal.classification.value,
        confidence=signal.confidence,
    )


def signals(view: AreaSignalsView) -> models.CommunitySignalsOut:
    return models.CommunitySignalsOut(
        geohash=view.signals.geohash,
        as_of=view.as_of,
        data_updated_at=view.data_updated_at,
        windows=[
            models.SignalWindowOut(
                days=window.days,
                crops=[crop_signal(signal) for signal in window.crops],
                summary=window.summary,
                all_crops=models.AllCropsOut(
                    listings=window.all_crops.listings,
                    requests=window.all_crops.requests,
                    contributors=window.all_crops.contributors,
                    rounded=window.all_crops.rounded,
                ),
            )
            for window in view.signals.windows
        ],
    )


def advice(value: Advice) -> models.AdviceOut:
    return models.AdviceOut(
        headline=value.headline,
        reasoning=list(value.reasoning),
        actions=list(value.actions),
        source=value.source,
        model_id=value.model_id,
    )


def guidance(status: GuidanceStatus) -> models.GuidanceOut:
    request = status.guidance
    return models.GuidanceOut(
        guidance_id=request.guidance_id,
        status="pending" if status.answer is None else "ready",
        geohash=request.area,
        area=request.area,
        crop=request.crop,
        created_at=iso(request.created_at),
        guidance=advice(status.answer) if status.answer is not None else None,
    )


def explanation(value: Explanation) -> models.ExplanationOut:
    return models.ExplanationOut(
        geohash=value.area,
        days=value.days,
        as_of=value.as_of,
        cached=value.cached,
        explanation=advice(value.advice),
    )


def match(view: MatchView, viewer_id: str) -> match_models.MatchOut:
    """A suggestion; the other side exactly as the API shows it to a non-owner."""
    entry, other = view.entry, view.other
    return match_models.MatchOut(
        match_id=entry.match_id,
        side=view.side.value,
        request_id=entry.request_id,
        listing_id=entry.listing_id,
        crop=entry.crop,
        cell=entry.cell,
        distance_km=feed_distance(entry.distance_m / 1000),
        listed_at=entry.listed_at,
        listing=listing(other, viewer_id) if isinstance(other, Listing) else None,
        request=request(other, viewer_id) if isinstance(other, Request) else None,
    )

"""The catalogue of named read access patterns: the data engineers' contract (schemas/).

Each entry documents one Repository read method of the same name and runs it through
`getattr(repository, name)`, so a pattern cannot be documented under one name and implemented
under another. Results come back as stored items (as the item models encode them): the shape
a data engineer sees in the table and in exports, with Decimals kept so nothing is rounded on
the way out.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harvest.domain.listing import Listing
from harvest.store import keys
from harvest.store.feed_index import FeedRows
from harvest.store.items import (
    FEED_PROJECTION,
    ClaimItem,
    GuidanceItem,
    ListingItem,
    ProfileItem,
    RequestItem,
)
from harvest.store.repository import MAX_CLAIMS_READ, EntityPage, Repository
from harvest.store.table import Item

ParamType = Literal["string", "integer"]


class ParamError(ValueError):
    """Parameters that do not fit a pattern: unknown, missing or malformed."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: ParamType
    description: str
    example: str
    required: bool = True
    # The Repository method's keyword: the public names are the stored attribute names.
    argument: str = ""

    def parse(self, raw: object) -> str | int:
        text = str(raw).strip()
        if not text:
            raise ParamError(f"parameter {self.name} is empty")
        if self.type == "string":
            return text
        try:
            number = int(text)
        except ValueError:
            raise ParamError(f"parameter {self.name} must be an integer, got {text!r}") from None
        if number < 1:
            raise ParamError(f"parameter {self.name} must be at least 1")
        return number


@dataclass(frozen=True, slots=True)
class AccessPattern:
    name: str
    description: str
    operation: Literal["GetItem", "Query"]
    index: str | None
    key_condition: str
    filter: str | None
    order: str | None
    params: tuple[Param, ...]
    returns: tuple[str, ...]
    encode: Callable[[Any], Item]

    @property
    def example_params(self) -> dict[str, str]:
        """The documented invocation: every required parameter with its example."""
        return {param.name: param.example for param in self.params if param.required}

    def bind(self, params: Mapping[str, object]) -> dict[str, str | int]:
        """Check names and parse values; raise ParamError naming every problem at once."""
        known = {param.name: param for param in self.params}
        problems = [f"unknown parameter {name}" for name in params if name not in known]
        problems += [
            f"missing parameter {param.name}"
            for param in self.params
            if param.required and param.name not in params
        ]
        if problems:
            expected = ", ".join(p.name + ("" if p.required else "?") for p in self.params)
            raise ParamError(f"{self.name}: {'; '.join(problems)} (takes {expected})")
        return {name: known[name].parse(value) for name, value in params.items()}

    def run(self, repository: Repository, **params: object) -> list[Item]:
        bound = self.bind(params)
        arguments = {
            (param.argument or param.name): bound[param.name]
            for param in self.params
            if param.name in bound
        }
        result = getattr(repository, self.name)(**arguments)
        if result is None:
            return []
        if isinstance(result, EntityPage):
            return [self.encode(entity) for entity in result.items]
        if isinstance(result, FeedRows):
            return [self.encode(entity) for _, entity in result.rows]
        if isinstance(result, list):
            return [self.encode(entity) for entity in result]
        return [self.encode(result)]


def _id(name: str, what: str, example: str, argument: str) -> Param:
    return Param(name, "string", what, example, argument=argument)


_LIMIT = Param("limit", "integer", "Page size (default 20).", "20", required=False)


def _before(index_sk: str, example: str) -> Param:
    return Param(
        "before",
        "string",
        f"Only claims strictly older than this {index_sk} value (the last one of the previous "
        "page), for paging.",
        example,
        required=False,
    )


_FEED_ROW = frozenset({"PK", "SK", "GSI3PK", "GSI3SK", *FEED_PROJECTION})


def _feed_row(encode: Callable[[Any], Item]) -> Callable[[Any], Item]:
    """What a FeedIndex row holds: the stored item without what the index leaves out."""

    def projected(entity: Any) -> Item:
        return {k: v for k, v in encode(entity).items() if k in _FEED_ROW}

    return projected


def _any_feed_row(entity: Any) -> Item:
    encode = ListingItem.encode if isinstance(entity, Listing) else RequestItem.encode
    return _feed_row(encode)(entity)


_CELL = Param(
    "cell",
    "string",
    f"Geohash of precision {keys.GEO_PARTITION_PRECISION} (the whole partition) or "
    f"{keys.FEED_CELL_PRECISION} (one published cell).",
    "u33d",
)
_OWNER = _id("ownerId", "User id of the owner.", "grower-ana", "owner_id")
_NEWEST = "newest first (by createdAt in the index sort key)"
_BY_PLACE = "by published geohash-5 cell, then id (ascending)"
_CELL_ALL = "; follows pagination to the end (the feed itself reads page by page)"

ACCESS_PATTERNS: tuple[AccessPattern, ...] = (
    AccessPattern(
        name="profile_by_user",
        description="A user's profile.",
        operation="GetItem",
        index=None,
        key_condition="PK = USER#{userId} AND SK = PROFILE",
        filter=None,
        order=None,
        params=(_id("userId", "User id (token sub).", "grower-ana", "user_id"),),
        returns=("profile",),
        encode=ProfileItem.encode,
    ),
    AccessPattern(
        name="listing_by_id",
        description="One listing by id, whatever its status.",
        operation="GetItem",
        index=None,
        key_condition="PK = LISTING#{listingId} AND SK = LISTING",
        filter=None,
        order=None,
        params=(_id("listingId", "Listing id.", "lst-ana-tomato", "listing_id"),),
        returns=("listing",),
        encode=ListingItem.encode,
    ),
    AccessPattern(
        name="listings_by_owner",
        description="A grower's listings of every status (first page).",
        operation="Query",
        index=keys.OWNER_INDEX,
        key_condition='GSI1PK = USER#{ownerId} AND begins_with(GSI1SK, "LISTING#")',
        filter=None,
        order=_NEWEST,
        params=(_OWNER, _LIMIT),
        returns=("listing",),
        encode=ListingItem.encode,
    ),
    AccessPattern(
        name="live_listings_in_cell",
        description="Active listings in a geohash-4 partition or published geohash-5 cell: "
        "the building block of the feed. Only active listings carry FeedIndex keys.",
        operation="Query",
        index=keys.FEED_INDEX,
        key_condition="GSI3PK = FEED#{cell[:4]} AND begins_with(GSI3SK, {cell}#listing#) "
        "(precision 5); GSI3PK = FEED#{cell} (precision 4)",
        filter='type = "listing" (precision 4 only)',
        order=_BY_PLACE + _CELL_ALL,
        params=(_CELL,),
        returns=("listing",),
        encode=_feed_row(ListingItem.encode),
    ),
    AccessPattern(
        name="request_by_id",
        description="One request by id, whatever its status.",
        operation="GetItem",
        index=None,
        key_condition="PK = REQUEST#{requestId} AND SK = REQUEST",
        filter=None,
        order=None,
        params=(_id("requestId", "Request id.", "req-cleo-tomato", "request_id"),),
        returns=("request",),
        encode=RequestItem.encode,
    ),
    AccessPattern(
        name="requests_by_owner",
        description="A searcher's requests of every status (first page).",
        operation="Query",
        index=keys.OWNER_INDEX,
        key_condition='GSI1PK = USER#{ownerId} AND begins_with(GSI1SK, "REQUEST#")',
        filter=None,
        order=_NEWEST,
        params=(
            _id("ownerId", "User id of the searcher.", "searcher-cleo", "owner_id"),
            _LIMIT,
        ),
        returns=("request",),
        encode=RequestItem.encode,
    ),
    AccessPattern(
        name="open_requests_in_cell",
        description="Open requests in a geohash-4 partition or published geohash-5 cell. "
        "Only open requests carry FeedIndex keys.",
        operation="Query",
        index=keys.FEED_INDEX,
        key_condition="GSI3PK = FEED#{cell[:4]} AND begins_with(GSI3SK, {cell}#request#) "
        "(precision 5); GSI3PK = FEED#{cell} (precision 4)",
        filter='type = "request" (precision 4 only)',
        order=_BY_PLACE + _CELL_ALL,
        params=(_CELL,),
        returns=("request",),
        encode=_feed_row(RequestItem.encode),
    ),
    AccessPattern(
        name="feed_rows",
        description="One bounded read of the feed: live listings and open requests of a "
        "geohash-4 partition, or of one published geohash-5 cell, in the feed's order among "
        "items at one distance. The feed service chains these reads nearest cell first. "
        "Given both kind and crop (the matching worker's candidates), the same read is of "
        "the CropIndex (GSI4PK = CROP#{partition}#{kind}#{crop}, the same GSI3SK), which "
        "holds only that kind and crop: no filter, no row of another crop read.",
        operation="Query",
        index=keys.FEED_INDEX,
        key_condition="GSI3PK = FEED#{partition} [AND begins_with(GSI3SK, {cell}#[{kind}#]) "
        "| AND GSI3SK BETWEEN {after} AND {until or {cell}#[{kind}#]\\uffff}]",
        filter="type = {kind} (whole partition only), crop = {crop} (when given; none on "
        "the CropIndex)",
        order="by published geohash-5 cell, kind, id (ascending); `limit` rows read before "
        "the filter; the row equal to `after` is dropped",
        params=(
            Param("partition", "string", "Geohash-4 partition.", "u33d"),
            Param("cell", "string", "Published geohash-5 cell.", "u33dc", required=False),
            Param("kind", "string", "listing or request.", "listing", required=False),
            Param("crop", "string", "Crop slug.", "tomato", required=False),
            Param("after", "string", "GSI3SK to continue after.", "u33dc#listing#a", False),
            Param("until", "string", "Last GSI3SK to read (with after).", "u33dz#~", False),
            Param("limit", "integer", "Rows to read.", "20"),
        ),
        returns=("listing", "request"),
        encode=_any_feed_row,
    ),
    AccessPattern(
        name="claim_by_id",
        description="One claim by id, whatever its status.",
        operation="GetItem",
        index=None,
        key_condition="PK = CLAIM#{claimId} AND SK = CLAIM",
        filter=None,
        order=None,
        params=(_id("claimId", "Claim id.", "clm-cleo-tomato", "claim_id"),),
        returns=("claim",),
        encode=ClaimItem.encode,
    ),
    AccessPattern(
        name="claims_by_claimer",
        description="Claims a searcher made, of every status.",
        operation="Query",
        index=keys.OWNER_INDEX,
        key_condition='GSI1PK = USER#{claimerId} AND GSI1SK BETWEEN "CLAIM#" AND '
        '{before or "CLAIM#\\uffff"}',
        filter=None,
        order=_NEWEST + "; the item equal to `before` is dropped",
        params=(
            _id("claimerId", "User id of the searcher.", "searcher-cleo", "claimer_id"),
            _LIMIT,
            _before("GSI1SK", "CLAIM#2026-05-02T09:00:00.000Z#clm-cleo-apples"),
        ),
        returns=("claim",),
        encode=ClaimItem.encode,
    ),
    AccessPattern(
        name="claims_by_listing_owner",
        description="Claims received on a grower's listings, of every status.",
        operation="Query",
        index=keys.GEO_INDEX,
        key_condition='GSI2PK = RECEIVED#{ownerId} AND GSI2SK BETWEEN "CLAIM#" AND '
        '{before or "CLAIM#\\uffff"}',
        filter=None,
        order=_NEWEST + "; the item equal to `before` is dropped",
        params=(
            _OWNER,
            _LIMIT,
            _before("GSI2SK", "CLAIM#2026-05-01T14:00:00.000Z#clm-dora-zucchini"),
        ),
        returns=("claim",),
        encode=ClaimItem.encode,
    ),
    AccessPattern(
        name="claims_by_listing",
        description="Claims on one listing (the owner's received claims, filtered). The owner "
        "id is part of the key: a listing's claims live in its owner's partition.",
        operation="Query",
        index=keys.GEO_INDEX,
        key_condition='GSI2PK = RECEIVED#{ownerId} AND begins_with(GSI2SK, "CLAIM#")',
        filter="listingId = {listingId}",
        order=f"{_NEWEST}; follows pagination up to {MAX_CLAIMS_READ} items read",
        params=(_OWNER, _id("listingId", "Listing id.", "lst-ana-tomato", "listing_id")),
        returns=("claim",),
        encode=ClaimItem.encode,
    ),
    AccessPattern(
        name="guidance_by_id",
        description="One grower-guidance request by id (its answer is a derived item).",
        operation="GetItem",
        index=None,
        key_condition="PK = GUIDANCE#{guidanceId} AND SK = GUIDANCE",
        filter=None,
        order=None,
        params=(_id("guidanceId", "Guidance request id.", "gd-ada-tomato", "guidance_id"),),
        returns=("guidance",),
        encode=GuidanceItem.encode,
    ),
    AccessPattern(
        name="guidance_by_owner",
        description="A grower's guidance requests (GET /me/guidance; first page).",
        operation="Query",
        index=keys.OWNER_INDEX,
        key_condition='GSI1PK = USER#{ownerId} AND begins_with(GSI1SK, "GUIDANCE#")',
        filter=None,
        order=_NEWEST,
        params=(_OWNER, _LIMIT),
        returns=("guidance",),
        encode=GuidanceItem.encode,
    ),
)

_BY_NAME = {pattern.name: pattern for pattern in ACCESS_PATTERNS}


def find(name: str) -> AccessPattern:
    """The pattern called `name`; KeyError that suggests close names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        close = difflib.get_close_matches(name, _BY_NAME, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown access pattern {name!r}{hint}") from None

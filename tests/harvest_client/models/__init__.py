"""Contains all the data models used in inputs/outputs"""

from .advice_out import AdviceOut
from .advice_out_source import AdviceOutSource
from .all_crops_out import AllCropsOut
from .claim_collection import ClaimCollection
from .claim_create import ClaimCreate
from .claim_out import ClaimOut
from .claim_role import ClaimRole
from .claim_status import ClaimStatus
from .claim_update import ClaimUpdate
from .claim_update_status import ClaimUpdateStatus
from .community_signals_out import CommunitySignalsOut
from .crop_catalog_out import CropCatalogOut
from .crop_out import CropOut
from .crop_signal_out import CropSignalOut
from .crop_signal_out_classification import CropSignalOutClassification
from .crop_unit_out import CropUnitOut
from .explanation_out import ExplanationOut
from .feed_collection import FeedCollection
from .feed_kind_type_0 import FeedKindType0
from .field_problem import FieldProblem
from .gateway_error import GatewayError
from .guidance_collection import GuidanceCollection
from .guidance_create import GuidanceCreate
from .guidance_out import GuidanceOut
from .guidance_out_status import GuidanceOutStatus
from .health import Health
from .listing_collection import ListingCollection
from .listing_create import ListingCreate
from .listing_feed_item import ListingFeedItem
from .listing_out import ListingOut
from .listing_status import ListingStatus
from .listing_update import ListingUpdate
from .listing_update_status_type_0 import ListingUpdateStatusType0
from .location_out import LocationOut
from .match_collection import MatchCollection
from .match_out import MatchOut
from .match_out_side import MatchOutSide
from .my_matches_side import MyMatchesSide
from .point_in import PointIn
from .problem import Problem
from .problem_required_tier import ProblemRequiredTier
from .profile_out import ProfileOut
from .profile_put import ProfilePut
from .request_collection import RequestCollection
from .request_create import RequestCreate
from .request_feed_item import RequestFeedItem
from .request_out import RequestOut
from .request_status import RequestStatus
from .request_update import RequestUpdate
from .request_update_status_type_0 import RequestUpdateStatusType0
from .signal_window_out import SignalWindowOut
from .signal_window_out_days import SignalWindowOutDays
from .tier import Tier

__all__ = (
    "AdviceOut",
    "AdviceOutSource",
    "AllCropsOut",
    "ClaimCollection",
    "ClaimCreate",
    "ClaimOut",
    "ClaimRole",
    "ClaimStatus",
    "ClaimUpdate",
    "ClaimUpdateStatus",
    "CommunitySignalsOut",
    "CropCatalogOut",
    "CropOut",
    "CropSignalOut",
    "CropSignalOutClassification",
    "CropUnitOut",
    "ExplanationOut",
    "FeedCollection",
    "FeedKindType0",
    "FieldProblem",
    "GatewayError",
    "GuidanceCollection",
    "GuidanceCreate",
    "GuidanceOut",
    "GuidanceOutStatus",
    "Health",
    "ListingCollection",
    "ListingCreate",
    "ListingFeedItem",
    "ListingOut",
    "ListingStatus",
    "ListingUpdate",
    "ListingUpdateStatusType0",
    "LocationOut",
    "MatchCollection",
    "MatchOut",
    "MatchOutSide",
    "MyMatchesSide",
    "PointIn",
    "Problem",
    "ProblemRequiredTier",
    "ProfileOut",
    "ProfilePut",
    "RequestCollection",
    "RequestCreate",
    "RequestFeedItem",
    "RequestOut",
    "RequestStatus",
    "RequestUpdate",
    "RequestUpdateStatusType0",
    "SignalWindowOut",
    "SignalWindowOutDays",
    "Tier",
)

"""No signal is published below the k-anonymity threshold.

One area, three crops: tomato with 3 contributors (published: the control that figures do
show when there are enough), zucchini with 2 and apple with 1 (both under k = 3). The real
aggregator and insight worker run in-process on the records the stream would deliver; then
neither GET /communities/{geohash}/signals, nor the INSIGHT# items, nor the insight.generated
events, nor the explanation (served text and the prompt a model would get), nor a guidance
prompt names a hidden crop or carries its figures, and none of their texts carries its
quantities (a hidden crop looks exactly like a crop nobody listed: issue 11).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from harvest.api import dependencies
from harvest.consumers import derivation
from harvest.domain.advice import explanation_prompt, guidance_prompt
from harvest.domain.entitlements import Tier
from harvest.domain.insight import windows_to_public
from harvest.settings import current_settings
from harvest.store.dynamo import deserialize
from harvest.store.stream import events_from_record
from security.helpers import stream_record
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext

AREA = "u33d"  # payloads.BERLIN is u33dc...; the insight worker keeps cells of 4, 5 and 6
HIDDEN = {"zucchini", "apple"}
# Quantities (and sums) only the hidden crops have: none may appear in any published text.
HIDDEN_QUANTITIES = ("123.456", "7.891", "131.347", "45.678")
FIGURES = ("supply", "demand", "listings", "requests", "scarcity", "abundance", "confidence")


# Noise off (settings): the control crop's exact figure must reach every output.
pytestmark = pytest.mark.usefixtures("module_no_noise")


@pytest.fixture(scope="module")
def community(module_api: Api, module_dynamodb: Any, module_table: str) -> Iterator[str]:
    """The community, stored and aggregated once for the module (the pipeline is the costly
    part); yields the stored geohash of the listings."""
    derivation.derivation.reset()
    yield _pipeline(module_api, module_dynamodb, module_table)
    derivation.derivation.reset()


def _pipeline(api: Api, dynamodb: Any, table: str) -> str:
    """Stores the community through the API, runs the aggregator and the insight worker."""
    made = [
        *(api.post("/listings", payloads.listing(quantity=10), user=u) for u in ("a", "b", "c")),
        api.post("/listings", payloads.listing(crop="zucchini", quantity=123.456), user="dan"),
        api.post("/requests", payloads.request(crop="zucchini", quantity=7.891), user="eve"),
        api.post("/listings", payloads.listing(crop="apple", quantity=45.678), user="fay"),
    ]
    records = []
    for n, response in enumerate(made):
        assert response.status == 201, response.body
        kind = "LISTING" if "listingId" in response.body else "REQUEST"
        entity_id = response.body[f"{kind.lower()}Id"]
        key = {"PK": f"{kind}#{entity_id}", "SK": kind}
        records.append(stream_record(dynamodb, table, key, n))
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}
    return str(records[0]["dynamodb"]["NewImage"]["geohash"]["S"])


def _text(document: Any) -> str:
    return json.dumps(document, default=str)


def _crop_entries(document: Any) -> list[Mapping[str, Any]]:
    """Every mapping that describes one crop (has `crop` and `classification`), any depth."""
    found: list[Mapping[str, Any]] = []
    if isinstance(document, Mapping):
        if "crop" in document and "classification" in document:
            found.append(document)
        for value in document.values():
            found += _crop_entries(value)
    elif isinstance(document, list):
        for value in document:
            found += _crop_entries(value)
    return found


def _assert_hidden_and_control(document: Any, *, control: bool = True) -> None:
    """Hidden crops: not named at all; tomato (the control): figures shown."""
    entries = _crop_entries(document)
    assert not [entry for entry in entries if entry["crop"] in HIDDEN], entries
    shown = [entry for entry in entries if entry["crop"] == "tomato"]
    assert bool(shown) is control, "the control crop must be there (not at precision 6)"
    assert all(entry["supply"] == 30 for entry in shown), shown
    _assert_no_hidden_text(document)


def _assert_no_hidden_text(document: Any) -> None:
    """No hidden crop's name or quantity anywhere in the document, in any form."""
    text = _text(document)
    assert not [q for q in HIDDEN_QUANTITIES if q in text], text
    assert not [crop for crop in HIDDEN if crop in text.lower()], text


def test_the_k_threshold_is_above_the_hidden_crops_contributors() -> None:
    assert current_settings().signal_k >= 3


def test_the_signals_route_reports_no_figure_under_k(community: str, module_api: Api) -> None:
    response = module_api.get(f"/communities/{AREA}/signals", user="reader", tier="free")

    assert response.status == 200, response.body
    _assert_hidden_and_control(response.body["windows"])
    for window in response.body["windows"]:
        assert "contributors" not in window["summary"], window


def test_insight_items_and_their_events_hold_no_figure_under_k(
    community: str, module_dynamodb: Any, module_table: str
) -> None:
    # Precision 6 publishes nothing, so it has no insight item at all (domain.release).
    six = {"PK": f"INSIGHT#{community[:6]}", "SK": "CURRENT"}
    assert "Item" not in module_dynamodb.get_item(
        TableName=module_table, Key={k: {"S": v} for k, v in six.items()}
    )
    cells = (community[:4], community[:5])
    keys = [{"PK": f"INSIGHT#{cell}", "SK": "CURRENT"} for cell in cells]

    records = [stream_record(module_dynamodb, module_table, key, n) for n, key in enumerate(keys)]
    events = [event.envelope() for record in records for event in events_from_record(record)]

    for record in records:
        image = deserialize(record["dynamodb"]["NewImage"])
        # The item stores each crop as a row (domain.insight): read as the event publishes it
        # for the control, and searched as stored for anything hidden.
        public = {**image, "windows": windows_to_public(image["windows"], image["area"])}
        _assert_hidden_and_control(public, control=True)
        _assert_no_hidden_text(image)
    assert [event["detailType"] for event in events] == ["insight.generated"] * 2
    for event in events:
        _assert_hidden_and_control(event["data"], control=True)


def test_explanations_and_prompts_reveal_no_hidden_quantity(
    community: str, module_api: Api
) -> None:
    signals = dependencies.services().signals.for_area(AREA).signals

    for days in (7, 14, 30):
        served = module_api.get(f"/communities/{AREA}/explanation?days={days}", tier="supporter")
        assert served.status == 200, served.body
        assert not [q for q in HIDDEN_QUANTITIES if q in _text(served.body)], served.body
        window = next(w for w in signals.windows if w.days == days)
        prompt = explanation_prompt(AREA, window)
        assert "30" in prompt.user, "the control figure reaches the prompt"
        assert not [q for q in HIDDEN_QUANTITIES if q in prompt.user], prompt.user
    for crop in ("zucchini", "apple", None):
        for tier in Tier:
            prompt = guidance_prompt(AREA, signals, crop, tier)
            assert not [q for q in HIDDEN_QUANTITIES if q in prompt.user], prompt.user

"""DynamoDB throttling on the local runtime: API writes and the aggregator's transactions.

Throttling is injected below the application, on botocore's `before-send` event, so every
attempt botocore makes (its own retries included) can be refused with the service's 400
ThrottlingException / ProvisionedThroughputExceededException, exactly as DynamoDB answers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from harvest.store.dynamo import CLIENT_CONFIG
from support import payloads
from support.faults import (
    SendFaults,
    answer,
    audit,
    dlq_entries,
    transact_target,
    wait_until_drained,
)
from support.runtime import HttpClient, HttpResult, running_runtime

# Every attempt botocore makes of one call (the client configuration of all our clients).
ATTEMPTS: int = vars(CLIENT_CONFIG)["retries"]["total_max_attempts"]
CODES = ("ProvisionedThroughputExceededException", "ThrottlingException")

WRITES, THREADS = 30, 3
REFUSED = frozenset({4, 14, 24})  # every attempt throttled: botocore gives up, the API says 503
RECOVERED = frozenset(i for i in range(WRITES) if i % 6 == 1)  # all but the last attempt
# The aggregator: its first transaction is refused on every attempt (the record fails and the
# mapping retries it), the next one on all but its last attempt.
AGGREGATOR_THROTTLES = 2 * ATTEMPTS - 1


def _write_id(index: int) -> str:
    return f"throttle-{index:02d}"


def _is_request(index: int) -> bool:
    return index % 5 == 2


def _body(index: int) -> dict[str, Any]:
    if _is_request(index):
        return payloads.request(requestId=_write_id(index))
    return payloads.listing(listingId=_write_id(index), notes=f"write {index}")


def _owner(index: int) -> str:
    return f"{'searcher' if _is_request(index) else 'grower'}-{index % THREADS}"


def _collection(index: int) -> str:
    return "/requests" if _is_request(index) else "/listings"


def _path(index: int) -> str:
    return f"{_collection(index)}/{_write_id(index)}"


def _post(http: HttpClient, index: int) -> HttpResult:
    return http.call("POST", _collection(index), _body(index), user=_owner(index))


class Throttle:
    """Refuses API creates (by the id they create) and aggregator transactions (by count)."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.aggregator_refused = 0

    def __call__(self, request: AWSPreparedRequest) -> AWSResponse | None:
        target = transact_target(request)
        if target.startswith("AGG#SRC#"):  # the aggregator's marker leads its transaction
            if self.aggregator_refused < AGGREGATOR_THROTTLES:
                self.aggregator_refused += 1
                return answer(request, 400, CODES[self.aggregator_refused % 2])
            return None
        if not target.startswith(("LISTING#throttle-", "REQUEST#throttle-")):
            return None
        write_id = target.split("#", 1)[1]
        seen = self.attempts[write_id] = self.attempts.get(write_id, 0) + 1
        index = int(write_id.rsplit("-", 1)[1])
        refused = ATTEMPTS if index in REFUSED else ATTEMPTS - 1 if index in RECOVERED else 0
        if seen <= refused:
            return answer(request, 400, CODES[(index + seen) % 2])
        return None


def _header(result: HttpResult, name: str) -> str | None:
    return next((v for k, v in result.headers.items() if k.lower() == name.lower()), None)


def test_throttled_writes_are_refused_whole_or_kept_and_the_pipeline_catches_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = SendFaults.install(monkeypatch)
    throttle = Throttle()
    faults.on("dynamodb", "TransactWriteItems", throttle)
    data = tmp_path / "data"
    results: dict[int, HttpResult] = {}

    with running_runtime(data) as (_, http):
        # Given a small load from three clients while DynamoDB throttles
        def client(offset: int) -> None:
            for index in range(offset, WRITES, THREADS):
                results[index] = _post(http, index)

        threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        # Then botocore retried every throttled call, and gave up on the refused ones only
        assert sorted(results) == list(range(WRITES))
        expected_attempts = {
            _write_id(i): ATTEMPTS if i in REFUSED | RECOVERED else 1 for i in range(WRITES)
        }
        assert throttle.attempts == expected_attempts
        # A refused write is a 503 problem with Retry-After, an accepted one a 201
        for index, result in results.items():
            if index in REFUSED:
                assert result.status == 503, (index, result.body)
                assert _header(result, "Content-Type") == "application/problem+json"
                assert result.body["status"] == 503
                retry_after = _header(result, "Retry-After")
                assert retry_after is not None
                assert int(retry_after) >= 1
            else:
                assert result.status == 201, (index, result.body)

        # ... and left nothing behind: not readable, and the same create succeeds when retried
        for index in sorted(REFUSED):
            assert http.call("GET", _path(index), user=_owner(index)).status == 404
            retried = _post(http, index)
            assert retried.status == 201, retried.body
            results[index] = retried

        # Every acknowledged write is there, as it was acknowledged
        for index, result in results.items():
            stored = http.call("GET", _path(index), user=_owner(index))
            assert stored.status == 200
            assert stored.body == result.body

        # The aggregator's throttled record failed and was retried; nothing went to a DLQ
        wait_until_drained(data)
        assert throttle.aggregator_refused == AGGREGATOR_THROTTLES
        assert dlq_entries(data) == {}
        # ... and the derived state is exactly what the core items give: nothing lost or doubled
        code, report = audit(data)
        assert code == 0, report

    # Also from the data saved at the stop
    code, report = audit(data)
    assert code == 0, report
    assert f"scanned {WRITES} core" in report

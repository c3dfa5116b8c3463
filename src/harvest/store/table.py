"""Low-level table operations shared by the repository: conditional puts, transactions,
queries with pagination, and the translation of DynamoDB errors into domain errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from harvest.domain.errors import NotFound, RetryableConflict, ServiceUnavailable, VersionMismatch
from harvest.store.dynamo import deserialize, serialize, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
Key = dict[str, str]

_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}
_CONDITION = "attribute_exists(PK) AND version = :expected"
_BATCH_GET_MAX = 100


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query: the items and the key to start after (None on the last page)."""

    items: list[Item]
    next_key: Key | None
    scanned: int = 0  # items the query read (and paid for), before any filter


@dataclass(frozen=True, slots=True)
class TransactionCancelled(Exception):
    """Which operations of a transaction failed their condition (by position)."""

    failed: tuple[int, ...]


# No answer at all, after botocore's retries (timeouts of store/dynamo.CLIENT_CONFIG): a
# connect or read timeout, a refused or dropped connection. Like throttling, it is the
# table's state, not the request's fault: 503 + Retry-After, never a 500.
UNREACHABLE = (BotoConnectionError, HTTPClientError)


def unreachable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the table did not answer in time; retry shortly", retry_after_seconds=2
    )


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def raise_unavailable_if_throttled(error: ClientError) -> None:
    # botocore already retried with backoff; past that the caller should come back later.
    if error_code(error) in _THROTTLING:
        raise ServiceUnavailable(
            "the table is busy; retry shortly", retry_after_seconds=2
        ) from error


class Table:
    """A thin typed wrapper over one DynamoDB table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.name = table_name

    def get(self, key: Key, *, consistent: bool = True) -> Item | None:
        try:
            response = self.client.get_item(
                TableName=self.name, Key=serialize(key), ConsistentRead=consistent
            )
        except ClientError as error:
            raise_unavailable_if_throttled(error)
            raise
        except UNREACHABLE as error:
            raise unreachable() from error
        raw = response.get("Item")
        return deserialize(raw) if raw else None

    def get_many(self, keys: Sequence[Key], *, consistent: bool = True) -> list[Item]:
        """BatchGetItem of up to 100 keys, unprocessed keys asked again; found items only,
        in no particular order."""
        if len(keys) > _BATCH_GET_MAX:
            raise ValueError(f"at most {_BATCH_GET_MAX} keys per BatchGetItem, not {len(keys)}")
        found: list[Item] = []
        pending: list[dict[str, Any]] = [serialize(key) for key in keys]
        while pending:
            request = {self.name: {"Keys": pending, "ConsistentRead": consistent}}
            try:
                response = self.client.batch_get_item(RequestItems=request)  # type: ignore[arg-type]
            except ClientError as error:
                raise_unavailable_if_throttled(error)
                raise
            except UNREACHABLE as error:
                raise unreachable() from error
            found.extend(
                deserialize(raw) for raw in response.get("Responses", {}).get(self.name, [])
            )
            left = response.get("UnprocessedKeys", {}).get(self.name)
            pending = list(left["Keys"]) if left else []
        return found

    def put_versioned(self, item: Item, expected_version: int, what: str) -> None:
        """Replace an item only if it still has `expected_version` (optimistic concurrency)."""
        try:
            self.client.put_item(
                TableName=self.name,
                Item=serialize(item),
                ConditionExpression=_CONDITION,
                ExpressionAttributeValues=values(expected=expected_version),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                self._raise_stale(item, expected_version, what)
            raise_unavailable_if_throttled(error)
            raise
        except UNREACHABLE as error:
            raise unreachable() from error

    def update_if(
        self,
        key: Key,
        expression: str,
        condition: str | None,
        names: Mapping[str, str],
        bound: Mapping[str, Any],
    ) -> bool:
        """One UpdateItem, under `condition` when one is given; False (nothing written) when
        it does not hold."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": serialize(key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values(**bound),
        }
        if condition is not None:
            request["ConditionExpression"] = condition
        if names:  # DynamoDB refuses an empty ExpressionAttributeNames
            request["ExpressionAttributeNames"] = dict(names)
        try:
            self.client.update_item(**request)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise_unavailable_if_throttled(error)
            raise
        except UNREACHABLE as error:
            raise unreachable() from error
        return True

    def _raise_stale(self, item: Mapping[str, Any], expected: int, what: str) -> None:
        current = self.get({"PK": item["PK"], "SK": item["SK"]})
        if current is None:
            raise NotFound(f"{what} not found")
        raise VersionMismatch(expected, int(current["version"]))

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        """Run a TransactWriteItems; a failed condition becomes TransactionCancelled."""
        try:
            self.client.transact_write_items(TransactItems=list(operations))  # type: ignore[arg-type]
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons", [])
                failed = tuple(
                    index
                    for index, reason in enumerate(reasons)
                    if reason.get("Code") == "ConditionalCheckFailed"
                )
                if failed:
                    raise TransactionCancelled(failed) from error
                # Conflicting concurrent transactions on the same items: safe to retry.
                raise RetryableConflict([str(r.get("Code")) for r in reasons]) from error
            raise_unavailable_if_throttled(error)
            raise
        except UNREACHABLE as error:
            raise unreachable() from error

    def put_new_op(self, item: Item) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.name,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def put_versioned_op(self, item: Item, expected_version: int) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.name,
                "Item": serialize(item),
                "ConditionExpression": _CONDITION,
                "ExpressionAttributeValues": values(expected=expected_version),
            }
        }

    def condition_op(self, key: Key, expression: str, **named: Any) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.name,
                "Key": serialize(key),
                "ConditionExpression": expression,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(**named),
            }
        }

    def query(
        self,
        *,
        index: str | None,
        key_condition: str,
        names: Mapping[str, str],
        bound: Mapping[str, Any],
        limit: int,
        start_key: Key | None = None,
        newest_first: bool = True,
        filter_expression: str | None = None,
        consistent: bool = False,
    ) -> Page:
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": dict(names),
            "ExpressionAttributeValues": values(**bound),
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        if consistent:
            request["ConsistentRead"] = True
        if index:
            request["IndexName"] = index
        if start_key:
            request["ExclusiveStartKey"] = serialize(start_key)
        if filter_expression:
            request["FilterExpression"] = filter_expression
        try:
            response = self.client.query(**request)
        except ClientError as error:
            raise_unavailable_if_throttled(error)
            raise
        except UNREACHABLE as error:
            raise unreachable() from error
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[deserialize(raw) for raw in response.get("Items", [])],
            next_key={k: str(v) for k, v in deserialize(last).items()} if last else None,
            scanned=int(response.get("ScannedCount", 0)),
        )

    def query_all(self, *, max_items: int, **query: Any) -> list[Item]:
        """Follow pagination up to `max_items` (bounded work per API call)."""
        items: list[Item] = []
        start: Key | None = None
        while len(items) < max_items:
            page = self.query(limit=min(max_items - len(items), 500), start_key=start, **query)
            items.extend(page.items)
            if page.next_key is None:
                break
            start = page.next_key
        return items

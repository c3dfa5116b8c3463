"""WebSocket connections and their topic subscriptions (the CONN#/TOPIC# family).

Two item types, both with a TTL (`expiresAt`) so that a connection whose `$disconnect` never
ran (API Gateway calls it on a best-effort basis) still disappears:

    connection    PK CONN#{connectionId}    SK CONN                 userId, tier, topics
    subscription  PK TOPIC#{topicKey}       SK CONN#{connectionId}  userId

The delivery worker reads one topic's partition; `$disconnect` reads the connection's
`topics` to delete its subscriptions. Neither type is core or derived (schemas/key-design.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from harvest.domain.push import MAX_TOPICS_PER_CONNECTION, Topic
from harvest.store import keys
from harvest.store.dynamo import serialize, values
from harvest.store.table import Table, error_code

# API Gateway closes a WebSocket connection after 2 hours at most; an hour of slack for the
# TTL sweeper (which may lag) before anything but the TTL would have removed the items.
CONNECTION_TTL_S = 3 * 3600
MAX_SUBSCRIBERS_READ = 1000


class TooManyTopics(Exception):
    """The connection already holds MAX_TOPICS_PER_CONNECTION subscriptions."""


class UnknownConnection(Exception):
    """No connection item (never connected, already disconnected, or expired)."""


@dataclass(frozen=True, slots=True)
class Connection:
    connection_id: str
    user_id: str
    tier: str
    topics: frozenset[str]
    expires_at: int


@dataclass(frozen=True, slots=True)
class Subscriber:
    connection_id: str
    user_id: str


class ConnectionRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def connect(self, connection_id: str, user_id: str, tier: str, now: int) -> None:
        item = {
            **keys.connection_key(connection_id),
            "type": "connection",
            "connectionId": connection_id,
            "userId": user_id,
            "tier": tier,
            "connectedAt": now,
            "expiresAt": now + CONNECTION_TTL_S,
        }
        self.table.client.put_item(TableName=self.table.name, Item=serialize(item))

    def get(self, connection_id: str) -> Connection | None:
        item = self.table.get(keys.connection_key(connection_id))
        if item is None:
            return None
        return Connection(
            connection_id=str(item["connectionId"]),
            user_id=str(item["userId"]),
            tier=str(item.get("tier", "free")),
            topics=frozenset(str(t) for t in item.get("topics") or ()),
            expires_at=int(item["expiresAt"]),
        )

    def subscribe(self, connection: Connection, topic: Topic) -> None:
        """Records the topic on the connection (bounded), then the subscription item the
        delivery worker reads. Subscribing twice is the same as once."""
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=serialize(keys.connection_key(connection.connection_id)),
                UpdateExpression="ADD topics :topic",
                ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(topics)"
                " OR size(topics) < :max OR contains(topics, :key))",
                ExpressionAttributeValues={
                    **values(max=MAX_TOPICS_PER_CONNECTION, key=topic.key),
                    ":topic": {"SS": [topic.key]},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            if self.get(connection.connection_id) is None:
                raise UnknownConnection(connection.connection_id) from error
            raise TooManyTopics(connection.connection_id) from error
        item = {
            **keys.subscription_key(topic.key, connection.connection_id),
            "type": "subscription",
            "connectionId": connection.connection_id,
            "userId": connection.user_id,
            "topic": topic.name,
            "expiresAt": connection.expires_at,
        }
        self.table.client.put_item(TableName=self.table.name, Item=serialize(item))

    def unsubscribe(self, connection_id: str, topic: Topic) -> None:
        """Deletes the subscription, then forgets the topic on the connection (if still
        there); unsubscribing from a topic never subscribed is no error."""
        self._delete(keys.subscription_key(topic.key, connection_id))
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=serialize(keys.connection_key(connection_id)),
                UpdateExpression="DELETE topics :topic",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":topic": {"SS": [topic.key]}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def disconnect(self, connection_id: str) -> None:
        """Deletes the connection and its subscriptions; a second call finds nothing to do."""
        connection = self.get(connection_id)
        if connection is not None:
            for topic_key in sorted(connection.topics):
                self._delete(keys.subscription_key(topic_key, connection_id))
        self._delete(keys.connection_key(connection_id))

    def subscribers(self, topic_key: str, now: int) -> list[Subscriber]:
        """The live connections subscribed to a bound topic (expired ones the TTL sweeper has
        not removed yet are left out)."""
        items = self.table.query_all(
            max_items=MAX_SUBSCRIBERS_READ,
            index=None,
            key_condition="PK = :pk",
            names={"#expires": "expiresAt"},
            bound={"pk": f"TOPIC#{topic_key}", "now": now},
            newest_first=False,
            filter_expression="#expires > :now",
        )
        return [Subscriber(str(i["connectionId"]), str(i["userId"])) for i in items]

    def _delete(self, key: dict[str, Any]) -> None:
        self.table.client.delete_item(TableName=self.table.name, Key=serialize(key))

"""Measure the aggregation options of DESIGN.md §5 on DynamoDB Local before choosing one.

    .venv/bin/python bench/aggregation_options.py [--sources 10 100 1000 5000]

For a day bucket that already holds N contributing source items, one more source change costs:
  lww-map      UpdateItem SET c.#id = :qty, v.#id = :ver  IF v.#id < :ver   (no transaction)
  delta-marker TransactWriteItems [ADD bucket :delta ; PUT marker(source, bucket) IF older]
Prints consumed write units (from DynamoDB Local's ConsumedCapacity) and the bucket item size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from harvest.local.engines import DynamoDbLocalEngine
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table


def lww_update(client: Any, table: str, bucket: str, source: str, qty: int, ver: int) -> float:
    response = client.update_item(
        TableName=table,
        Key={"PK": {"S": bucket}, "SK": {"S": "DAY"}},
        UpdateExpression="SET c.#id = :qty, v.#id = :ver",
        ConditionExpression="attribute_not_exists(v.#id) OR v.#id < :ver",
        ExpressionAttributeNames={"#id": source},
        ExpressionAttributeValues={":qty": {"N": str(qty)}, ":ver": {"N": str(ver)}},
        ReturnConsumedCapacity="TOTAL",
    )
    return float(response["ConsumedCapacity"]["CapacityUnits"])


def delta_marker(client: Any, table: str, bucket: str, source: str, qty: int, ver: int) -> float:
    response = client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": bucket}, "SK": {"S": "DAY"}},
                    "UpdateExpression": "ADD supply :d, sources :one",
                    "ExpressionAttributeValues": {":d": {"N": str(qty)}, ":one": {"N": "1"}},
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "PK": {"S": f"{bucket}#SRC#{source}"},
                        "SK": {"S": "MARK"},
                        "qty": {"N": str(qty)},
                        "version": {"N": str(ver)},
                    },
                    "ConditionExpression": "attribute_not_exists(PK) OR version < :ver",
                    "ExpressionAttributeValues": {":ver": {"N": str(ver)}},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    return float(sum(c["CapacityUnits"] for c in response["ConsumedCapacity"]))


def item_size(client: Any, table: str, bucket: str) -> int:
    item = client.get_item(TableName=table, Key={"PK": {"S": bucket}, "SK": {"S": "DAY"}})["Item"]
    return len(json.dumps(item))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, nargs="+", default=[10, 100, 1000, 5000])
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    engine = DynamoDbLocalEngine()
    engine.start()
    try:
        client = make_client("us-east-1", engine.endpoint_url)
        create_table(client, "bench-aggregation")
        print(f"{'sources':>8} {'lww WCU':>8} {'lww item':>10} {'delta+marker WCU':>17}")
        for count in args.sources:
            lww_bucket, delta_bucket = f"AGG#lww#{count}", f"AGG#delta#{count}"
            # The map design needs its maps to exist first (a nested SET cannot create them).
            client.put_item(
                TableName="bench-aggregation",
                Item={"PK": {"S": lww_bucket}, "SK": {"S": "DAY"}, "c": {"M": {}}, "v": {"M": {}}},
            )
            for i in range(count):
                lww_update(client, "bench-aggregation", lww_bucket, f"l{i:06d}", 3, 1)
            for i in range(min(count, 50)):  # constant per write: a few suffice
                delta_marker(client, "bench-aggregation", delta_bucket, f"l{i:06d}", 3, 1)
            lww = lww_update(client, "bench-aggregation", lww_bucket, "l000000", 4, 2)
            delta = delta_marker(client, "bench-aggregation", delta_bucket, "l000000", 4, 2)
            size = item_size(client, "bench-aggregation", lww_bucket)
            print(f"{count:>8} {lww:>8.1f} {size:>9}B {delta:>17.1f}")
    finally:
        engine.stop()


if __name__ == "__main__":
    main()

"""The API handler's cold start beside its bare dependencies, for bench/cold_start.py.

The yardstick: Logger + APIGatewayRestResolver + boto3, imported bare. The handler registers
its routes, their models and Powertools' validation on the first routed request, so import
alone would flatter it: the second pair of rows is import + one first request in the same
fresh interpreter, beside the bare dependencies serving one request of a validated route with
a pydantic body (both refused with 422: no AWS call).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

BARE_IMPORT = (
    "from aws_lambda_powertools import Logger\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "import boto3\n"
)
EVENT = """
import json
event = {"resource": "/{proxy+}", "path": "/listings", "httpMethod": "POST",
         "headers": {"Content-Type": "application/json"},
         "multiValueHeaders": {"Content-Type": ["application/json"]},
         "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": {"proxy": "listings"}, "stageVariables": None,
         "requestContext": {"requestId": "bench", "stage": "bench", "path": "/bench/listings",
                            "httpMethod": "POST", "resourcePath": "/{proxy+}",
                            "identity": {"sourceIp": "127.0.0.1"},
                            "authorizer": {"claims": {"sub": "bench", "custom:tier": "free"}}},
         "body": json.dumps({"crop": "tomato"}), "isBase64Encoded": False}
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    def get_remaining_time_in_millis(self): return 10000
"""
HANDLER_FIRST_REQUEST = (
    EVENT
    + "import harvest.api.app\n"
    + "assert harvest.api.app.handler(event, Context())['statusCode'] == 422\n"
)
BARE_FIRST_REQUEST = (
    BARE_IMPORT
    + EVENT
    + """
from typing import Annotated
from pydantic import BaseModel
from aws_lambda_powertools.event_handler.openapi.params import Body
logger = Logger(service="bench")
app = APIGatewayRestResolver(enable_validation=True)
class Listing(BaseModel):
    crop: str
    quantity: float
@app.post("/listings")
def create(body: Annotated[Listing, Body()]) -> dict:
    return {}
@logger.inject_lambda_context
def handler(event, context):
    return app.resolve(event, context)
assert handler(event, Context())["statusCode"] == 422
"""
)
SCRIPTS = {
    "API handler: import": "import harvest.api.app\n",
    "bare dependencies: import": BARE_IMPORT,
    "API handler: import + first request": HANDLER_FIRST_REQUEST,
    "bare dependencies: import + first request": BARE_FIRST_REQUEST,
}


@dataclass(slots=True)
class Samples:
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)


def _cpu_ms() -> float:
    import resource  # noqa: PLC0415 - POSIX only, like the rest of the bench

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def measure(
    base: dict[str, str], handlers: Sequence[Any], cwd: str, runs: int
) -> dict[str, Samples]:
    """Round-robin over the scripts, one fresh interpreter each, in ApiFunction's environment
    (`handlers`: cold_start's targets)."""
    api = next(target for target in handlers if target.label == "ApiFunction")
    environment = {**base, **api.environment}
    samples = {label: Samples() for label in SCRIPTS}
    for _ in range(runs):
        for label, code in SCRIPTS.items():
            cpu_before, started = _cpu_ms(), time.perf_counter()
            done = subprocess.run(  # noqa: S603 - our own scripts; output is the handler's logs
                [sys.executable, "-c", code],
                env=environment,
                cwd=cwd,
                capture_output=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{label} failed:\n{done.stderr.decode()[-2000:]}")
            samples[label].wall_ms.append((time.perf_counter() - started) * 1000)
            samples[label].cpu_ms.append(_cpu_ms() - cpu_before)
    return samples


def report(samples: dict[str, Samples], interpreter_cpu_ms: float) -> list[str]:
    cpu = {
        label: statistics.median(found.cpu_ms) - interpreter_cpu_ms
        for label, found in samples.items()
    }
    lines = [
        "API handler beside its bare dependencies (Logger + APIGatewayRestResolver + boto3);",
        "CPU ms over the bare interpreter, median of fresh interpreters:",
    ]
    lines += [f"  {label:<45} {value:7.0f}" for label, value in cpu.items()]
    for stage in ("import", "import + first request"):
        ratio = cpu[f"API handler: {stage}"] / max(cpu[f"bare dependencies: {stage}"], 1.0)
        lines.append(f"  ratio API handler / bare, {stage:<24} {ratio:5.2f}x")
    return lines


def document(samples: dict[str, Samples], interpreter_cpu_ms: float) -> dict[str, Any]:
    return {
        label: round(statistics.median(found.cpu_ms) - interpreter_cpu_ms, 1)
        for label, found in samples.items()
    }

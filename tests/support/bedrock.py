"""Bedrock Converse replies for botocore's Stubber, in the shape the service answers."""

from __future__ import annotations

from typing import Any


def converse_response(
    *texts: str, input_tokens: int = 120, output_tokens: int = 45
) -> dict[str, Any]:
    """A successful Converse answer whose message holds `texts` as content blocks."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": t} for t in texts]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 800},
    }

"""Redrive of what the consumers' DLQs hold (`harvest redrive` only parses and calls `run`).

`format`: the DLQ file format (Lambda's failure record for a stream); `sources`: where the
entries are (DIR/dlq/*.jsonl, an SQS on-failure destination); `engine`: re-reading a range
from the stream and calling the consumer's handler; `queues`: moving an SQS-fed consumer's
DLQ back to its queue; `runner`: which of these a request asks for, and the fallbacks.
"""

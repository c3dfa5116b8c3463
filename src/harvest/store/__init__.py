"""Persistence: the only layer that speaks DynamoDB."""

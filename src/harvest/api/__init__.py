"""The REST API Lambda: routing, auth, validation and HTTP mapping. No business rules."""

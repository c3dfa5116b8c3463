"""Business rules. Services take their repository (and clock, catalog) as constructor
arguments and know nothing of HTTP or DynamoDB expressions."""

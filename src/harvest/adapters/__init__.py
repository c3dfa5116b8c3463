"""Adapters to services other than the table (the store layer owns DynamoDB): each turns one
outside API into the small interface the services ask for. Same rank as the store."""

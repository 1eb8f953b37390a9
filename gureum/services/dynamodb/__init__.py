"""Amazon DynamoDB: tables, items, expressions, queries, batches and transactions."""

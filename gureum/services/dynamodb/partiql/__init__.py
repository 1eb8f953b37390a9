"""PartiQL for DynamoDB: a lark grammar and its translation onto the item operations."""

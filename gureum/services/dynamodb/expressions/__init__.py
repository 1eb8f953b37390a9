"""DynamoDB expressions: a lark grammar, the parse into small nodes, and their evaluation."""

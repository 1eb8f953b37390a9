"""Wire protocols: botocore-model-driven request parsers and response serializers.

One parser and one serializer per protocol (query, ec2, json, rest-json, rest-xml,
smithy-rpc-v2-cbor) serve every service. See `parsers` and `serializers`.
"""

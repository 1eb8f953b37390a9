"""Authentication: SigV4 signatures, aws-chunked bodies, checksums, credentials -> principals."""

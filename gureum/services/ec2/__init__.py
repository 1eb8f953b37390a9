"""Amazon EC2: the compute and network control plane.

Every EC2 resource is stored as the shape DescribeX returns for it (store.py), so describing
is reading, filtering (filters.py) and attaching tags (tags.py). Each family of resources has
its own module of operations, composed into the Provider (provider.py).
"""

"""EC2's catalogues, kept as data: public images (amis.py) and instance types (instance_types.py)."""

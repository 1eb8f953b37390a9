"""One package per AWS service; each has provider.py with a `Provider` class.

A service whose rows refer to blobs exports `blob_references(db) -> Iterable[str]` from its
package (`__init__.py`): the blob ids it refers to, read through `db.query(sql, params)` on a
store where its tables may not exist yet. `gureum doctor` and `gureum state export` use it.
"""

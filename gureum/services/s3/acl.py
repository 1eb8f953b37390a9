"""S3 access control lists: canned ACLs, grants, Get/Put Bucket/Object Acl, and their part in access.

ACLs apply only when a bucket's ObjectOwnership is BucketOwnerPreferred or ObjectWriter;
with BucketOwnerEnforced (the default) they are disabled as on AWS. A bucket's ACL is kept in
s3_buckets.acl, an object version's in its stored headers ("_ACL", and "_Owner" when another
account wrote it). For access decisions the grants are turned into resource-policy statements
evaluated together with the bucket policy, which is how AWS combines them: an ACL grant allows
like a policy statement does, Block Public Access voids grants to AllUsers/AuthenticatedUsers
(IgnorePublicAcls) and refuses to set them (BlockPublicAcls).
"""

from __future__ import annotations

import json
import re

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
# The canonical id AWS's aws-exec-read canned ACL grants READ to (Amazon EC2).
EC2_BUNDLE_ID = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
CANNED = ("private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read",
          "bucket-owner-full-control", "log-delivery-write")
GRANT_MEMBERS = {"GrantFullControl": "FULL_CONTROL", "GrantRead": "READ", "GrantReadACP": "READ_ACP",
                 "GrantWrite": "WRITE", "GrantWriteACP": "WRITE_ACP"}
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*(?:,|$)', re.IGNORECASE)

# What each permission allows, on the bucket and on an object (IAM actions, as AWS maps them).
BUCKET_ACTIONS = {
    "READ": ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"),
    "READ_ACP": ("s3:GetBucketAcl",),
    "WRITE_ACP": ("s3:PutBucketAcl",),
}
BUCKET_WRITE_OBJECT_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload",
                               "s3:ListMultipartUploadParts")
OBJECT_ACTIONS = {
    "READ": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent"),
    "READ_ACP": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "WRITE_ACP": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
}
_ACL_RELEVANT = frozenset(a for group in (*BUCKET_ACTIONS.values(), *OBJECT_ACTIONS.values()) for a in group) | \
    frozenset(BUCKET_WRITE_OBJECT_ACTIONS)


def not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def _malformed_acl() -> ServiceError:
    return ServiceError("MalformedACLError", "The XML you provided was not well-formed or did not validate against "
                        "our published schema", 400)


def _canonical(grantee_id: str) -> dict:
    return {"Type": "CanonicalUser", "ID": grantee_id}


def _group(uri: str) -> dict:
    return {"Type": "Group", "URI": uri}


def canned_grants(acl: str, owner_id: str, bucket_owner_id: str) -> list[dict]:
    """The grants a canned ACL stands for (owner_id: the resource's owner)."""
    grants = [{"Grantee": _canonical(owner_id), "Permission": "FULL_CONTROL"}]
    extra = {
        "public-read": [(_group(ALL_USERS), "READ")],
        "public-read-write": [(_group(ALL_USERS), "READ"), (_group(ALL_USERS), "WRITE")],
        "authenticated-read": [(_group(AUTHENTICATED_USERS), "READ")],
        "aws-exec-read": [(_canonical(EC2_BUNDLE_ID), "READ")],
        "bucket-owner-read": [(_canonical(bucket_owner_id), "READ")] if bucket_owner_id != owner_id else [],
        "bucket-owner-full-control":
            [(_canonical(bucket_owner_id), "FULL_CONTROL")] if bucket_owner_id != owner_id else [],
        "log-delivery-write": [(_group(LOG_DELIVERY), "WRITE"), (_group(LOG_DELIVERY), "READ_ACP")],
    }.get(acl, [])
    return grants + [{"Grantee": g, "Permission": p} for g, p in extra]


def is_public(grants: list[dict]) -> bool:
    return any(g["Grantee"].get("URI") in PUBLIC_GROUPS for g in grants)


class AclOperations:
    """Get/Put Bucket/Object Acl and the ACL parts of writes, mixed into the S3 provider."""

    # --- helpers -------------------------------------------------------------------------

    def _canonical_account(self, canonical: str) -> str | None:
        from gureum.services.s3.provider import canonical_id

        for account in self.env.accounts.list():
            if canonical_id(account.account_id) == canonical:
                return account.account_id
        return None

    def _effective_pab(self, row) -> dict:
        """The bucket's Block Public Access combined with its account's: the most restrictive of both."""
        mine = self._pab(row)
        account = self._account_pab(row["account_id"])
        return {k: bool(mine.get(k)) or bool(account.get(k)) for k in set(mine) | set(account)}

    def _account_pab(self, account_id: str) -> dict:
        control = self.env.provider("s3control")
        return control.account_public_access_block(account_id) if control is not None else {}

    def _grants_from_request(self, ctx: RequestContext, request: dict, row, owner_id: str) -> list[dict] | None:
        """The grants a request's x-amz-acl, x-amz-grant-* or AccessControlPolicy sets; None if it sets none."""
        from gureum.services.s3.provider import canonical_id

        bucket_owner = canonical_id(row["account_id"])
        canned = request.get("ACL")
        headers = {m: request[m] for m in GRANT_MEMBERS if request.get(m)}
        body = request.get("AccessControlPolicy")
        if canned is not None and (headers or body):
            raise ServiceError("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed", 400)
        if canned is not None:
            if canned not in CANNED:
                raise ServiceError("InvalidArgument", "", 400, fields={"ArgumentName": "x-amz-acl",
                                                                      "ArgumentValue": canned})
            return canned_grants(canned, owner_id, bucket_owner)
        if headers:
            grants = []
            for member, value in headers.items():
                for kind, grantee in _GRANTEE.findall(value):
                    grants.append({"Grantee": self._grantee(kind.lower(), grantee), "Permission": GRANT_MEMBERS[member]})
            return grants
        if body is not None:
            if body.get("Owner", {}).get("ID") not in (None, owner_id):
                raise ServiceError("AccessDenied", "Access Denied", 403)
            grants = []
            for grant in body.get("Grants") or []:
                grantee, permission = grant.get("Grantee") or {}, grant.get("Permission")
                if permission not in PERMISSIONS:
                    raise _malformed_acl()
                kind = {"CanonicalUser": "id", "Group": "uri", "AmazonCustomerByEmail": "emailaddress"}.get(
                    grantee.get("Type"))
                value = grantee.get({"id": "ID", "uri": "URI", "emailaddress": "EmailAddress"}.get(kind, ""), "")
                if kind is None or not value:
                    raise _malformed_acl()
                grants.append({"Grantee": self._grantee(kind, value), "Permission": permission})
            return grants
        return None

    def _grantee(self, kind: str, value: str) -> dict:
        if kind == "emailaddress":
            raise ServiceError("UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match "
                               "any account on record.", 400, fields={"EmailAddress": value})
        if kind == "uri":
            if value not in GROUPS:
                raise ServiceError("InvalidArgument", "Invalid group uri", 400,
                                   fields={"ArgumentName": "uri", "ArgumentValue": value})
            return _group(value)
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ServiceError("InvalidArgument", "Invalid id", 400,
                               fields={"ArgumentName": "CanonicalUser/ID", "ArgumentValue": value})
        return _canonical(value)

    def _check_public_acl(self, row, grants: list[dict]) -> None:
        if is_public(grants) and self._effective_pab(row).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)

    def _acl_for_create(self, ctx: RequestContext, request: dict, ownership: str) -> str | None:
        """CreateBucket's ACL (hook): the bucket ACL JSON to store, or None for private."""
        from gureum.services.s3.provider import canonical_id

        has_acl = request.get("ACL") is not None or any(request.get(m) for m in GRANT_MEMBERS)
        if not has_acl:
            return None
        if ownership == "BucketOwnerEnforced":
            if request.get("ACL") in ("private", "bucket-owner-full-control"):
                return None
            raise not_supported()
        row = {"account_id": ctx.account_id}
        grants = self._grants_from_request(ctx, request, row, canonical_id(ctx.account_id))
        if grants and is_public(grants):
            # New buckets start with every Block Public Access setting on.
            raise ServiceError("InvalidBucketAclWithBlockPublicAccessError",
                               "Bucket cannot have public ACLs set with BlockPublicAccess enabled", 400)
        return json.dumps(grants)

    def _acl_for_write(self, ctx: RequestContext, row, request: dict) -> dict:
        """The ACL members a new object stores (hook for PutObject, CopyObject, CreateMultipartUpload)."""
        from gureum.services.s3.provider import canonical_id

        ownership = row["ownership"] or "BucketOwnerEnforced"
        has_acl = request.get("ACL") is not None or any(request.get(m) for m in GRANT_MEMBERS)
        if ownership == "BucketOwnerEnforced":
            if has_acl and request.get("ACL") not in ("bucket-owner-full-control",):
                raise not_supported()
            return {}
        writer = ctx.account_id or row["account_id"]
        if ownership == "BucketOwnerPreferred" and request.get("ACL") == "bucket-owner-full-control":
            writer = row["account_id"]
        owner_id = canonical_id(writer)
        grants = self._grants_from_request(ctx, request, row, owner_id)
        out: dict = {}
        if writer != row["account_id"]:
            out["_Owner"] = writer
        if grants is not None:
            self._check_public_acl(row, grants)
            out["_ACL"] = grants
        return out

    def _object_owner_id(self, bucket_row, stored: dict) -> str:
        from gureum.services.s3.provider import canonical_id

        return canonical_id(stored.get("_Owner") or bucket_row["account_id"])

    # --- access decisions ----------------------------------------------------------------

    def _acl_statements(self, row, action: str, arn: str) -> list[dict]:
        """The bucket's and object's ACL grants for this action, as resource-policy statements."""
        if (row["ownership"] or "BucketOwnerEnforced") == "BucketOwnerEnforced" or action not in _ACL_RELEVANT:
            return []
        pab = self._effective_pab(row)
        from gureum.services.s3.names import key_bytes

        bucket_arn = f"arn:aws:s3:::{row['name']}"
        grants: list[tuple[dict, tuple[str, ...]]] = []
        bucket_grants = json.loads(row["acl"]) if row["acl"] else []
        if arn == bucket_arn:
            for g in bucket_grants:
                grants.append((g, BUCKET_ACTIONS.get(g["Permission"], ()) if g["Permission"] != "FULL_CONTROL"
                               else tuple(a for v in BUCKET_ACTIONS.values() for a in v)))
        elif arn.startswith(bucket_arn + "/"):
            for g in bucket_grants:
                if g["Permission"] in ("WRITE", "FULL_CONTROL"):
                    grants.append((g, BUCKET_WRITE_OBJECT_ACTIONS))
            try:
                key = key_bytes(arn[len(bucket_arn) + 1:])
            except ServiceError:
                key = None
            obj = self.env.db.query_one("SELECT headers FROM s3_latest WHERE bucket = ? AND key = ?",
                                        (row["name"], key)) if key is not None else None
            for g in json.loads(obj["headers"]).get("_ACL", []) if obj else []:
                grants.append((g, OBJECT_ACTIONS.get(g["Permission"], ()) if g["Permission"] != "FULL_CONTROL"
                               else tuple(a for v in OBJECT_ACTIONS.values() for a in v)))
        statements = []
        for grant, actions in grants:
            if action not in actions:
                continue
            grantee = grant["Grantee"]
            uri = grantee.get("URI")
            if uri in PUBLIC_GROUPS and pab.get("IgnorePublicAcls"):
                continue
            st: dict = {"Effect": "Allow", "Action": action, "Resource": arn}
            if uri == ALL_USERS:
                st["Principal"] = "*"
            elif uri == AUTHENTICATED_USERS:
                st["Principal"] = "*"
                st["Condition"] = {"StringNotEquals": {"aws:PrincipalType": "Anonymous"}}
            elif grantee.get("ID"):
                account = self._canonical_account(grantee["ID"])
                if account is None:
                    continue
                st["Principal"] = {"AWS": f"arn:aws:iam::{account}:root"}
            else:
                continue
            statements.append(st)
        return statements

    # --- operations ----------------------------------------------------------------------

    def _acl_output(self, owner_id: str, grants: list[dict] | None) -> dict:
        if grants is None:
            grants = [{"Grantee": _canonical(owner_id), "Permission": "FULL_CONTROL"}]
        return {"Owner": {"ID": owner_id}, "Grants": [
            {"Grantee": dict(g["Grantee"]), "Permission": g["Permission"]} for g in grants]}

    def get_bucket_acl(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.s3.provider import canonical_id

        row = self._bucket(request["Bucket"])
        grants = json.loads(row["acl"]) if row["acl"] and row["ownership"] != "BucketOwnerEnforced" else None
        return self._acl_output(canonical_id(row["account_id"]), grants)

    def put_bucket_acl(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.s3.provider import canonical_id

        row = self._bucket(request["Bucket"])
        if (row["ownership"] or "BucketOwnerEnforced") == "BucketOwnerEnforced":
            if request.get("ACL") in ("bucket-owner-full-control",):
                return {}
            raise not_supported()
        grants = self._grants_from_request(ctx, request, row, canonical_id(row["account_id"]))
        if grants is None:
            raise ServiceError("MissingSecurityHeader", "Your request was missing a required header", 400,
                               fields={"MissingHeaderName": "x-amz-acl"})
        self._check_public_acl(row, grants)
        self._set_bucket(row["name"], acl=json.dumps(grants))
        return {}

    def get_object_acl(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        obj = self._object(request["Bucket"], request["Key"], request.get("VersionId"))
        stored = json.loads(obj["headers"])
        grants = stored.get("_ACL") if row["ownership"] != "BucketOwnerEnforced" else None
        return self._acl_output(self._object_owner_id(row, stored), grants)

    def put_object_acl(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        obj = self._object(request["Bucket"], request["Key"], request.get("VersionId"))
        if (row["ownership"] or "BucketOwnerEnforced") == "BucketOwnerEnforced":
            if request.get("ACL") in ("bucket-owner-full-control",):
                return {}
            raise not_supported()
        stored = json.loads(obj["headers"])
        grants = self._grants_from_request(ctx, request, row, self._object_owner_id(row, stored))
        if grants is None:
            raise ServiceError("MissingSecurityHeader", "Your request was missing a required header", 400,
                               fields={"MissingHeaderName": "x-amz-acl"})
        self._check_public_acl(row, grants)
        stored["_ACL"] = grants
        db = self.env.db
        with db.transaction():
            current = db.query_one("SELECT version_id FROM s3_latest WHERE bucket = ? AND key = ?",
                                   (row["name"], obj["key"]))
            if current is not None and current["version_id"] == obj["version_id"]:
                db.execute("UPDATE s3_objects SET headers = ? WHERE bucket = ? AND key = ?",
                           (json.dumps(stored), row["name"], obj["key"]))
            else:
                db.execute("UPDATE s3_versions SET headers = ? WHERE bucket = ? AND key = ? AND version_id = ?",
                           (json.dumps(stored), row["name"], obj["key"], obj["version_id"]))
        out: dict = {}
        if obj["version_id"] != "null":
            out["VersionId"] = obj["version_id"]
        return out

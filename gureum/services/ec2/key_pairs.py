"""Key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.

The private key of a created pair is handed out once and never kept; only the public key is
stored (shown by DescribeKeyPairs when IncludePublicKey is set).
"""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, key_material
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter
from gureum.services.ec2.store import Resources, Scope, new_id, now_iso, with_tags
from gureum.services.ec2.tags import tag_specifications

KIND = "key-pair"

_FILTERS = filters.paths({
    "key-pair-id": "KeyPairId",
    "fingerprint": "KeyFingerprint",
    "key-name": "KeyName",
})


def _duplicate(name: str) -> ServiceError:
    return ServiceError("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.", 400)


def _not_found(name: str) -> ServiceError:
    return ServiceError("InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist", 400)


def _check_name(name: str | None) -> str:
    if name is None:
        raise missing_parameter("The request must contain the parameter KeyName")
    if not name or len(name) > 255 or not name.isascii():
        raise invalid_parameter_value(
            f"Value ({name}) for parameter keyName is invalid. Length exceeds maximum of 255 ASCII characters"
            if len(name) > 255 else f"Value ({name}) for parameter keyName is invalid.")
    return name


class KeyPairOperations:
    resources: Resources

    # ---- for other operations (RunInstances' KeyName) ------------------------------------

    def key_pair_by_name(self, scope: Scope, name: str) -> dict | None:
        """The stored key pair named `name` in the scope (with PublicKey), or None."""
        return next((k for k in self.resources.all(scope, KIND) if k["KeyName"] == name), None)

    # ---- operations ------------------------------------------------------------------------

    def create_key_pair(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name = _check_name(request.get("KeyName"))
        key_type = request.get("KeyType") or "rsa"
        key_format = request.get("KeyFormat") or "pem"
        if key_type not in ("rsa", "ed25519"):
            raise invalid_parameter_value(f"Invalid value '{key_type}' for keyType.")
        if key_format not in ("pem", "ppk"):
            raise invalid_parameter_value(f"Invalid value '{key_format}' for keyFormat.")
        tags = tag_specifications(request, ("key-pair",)).get("key-pair", [])
        if self.key_pair_by_name(scope, name):
            raise _duplicate(name)
        private = key_material.generate(key_type)
        material = (key_material.private_ppk(private, name) if key_format == "ppk"
                    else key_material.private_pem(private))
        doc = self._store_key_pair(scope, name, key_type, key_material.created_fingerprint(private),
                                   key_material.openssh_public(private.public_key(), name), tags)
        out = {"KeyFingerprint": doc["KeyFingerprint"], "KeyMaterial": material, "KeyName": name,
               "KeyPairId": doc["KeyPairId"]}
        if tags:
            out["Tags"] = tags
        return out

    def import_key_pair(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name = _check_name(request.get("KeyName"))
        material = request.get("PublicKeyMaterial")
        if not material:
            raise missing_parameter("The request must contain the parameter PublicKeyMaterial")
        tags = tag_specifications(request, ("key-pair",)).get("key-pair", [])
        try:
            public = key_material.load_public(material)
        except key_material.KeyFormatError as e:
            raise ServiceError("InvalidKey.Format", str(e), 400) from None
        if self.key_pair_by_name(scope, name):
            raise _duplicate(name)
        doc = self._store_key_pair(scope, name, key_material.key_type_of(public),
                                   key_material.imported_fingerprint(public),
                                   key_material.openssh_public(public, name), tags)
        out = {"KeyFingerprint": doc["KeyFingerprint"], "KeyName": name, "KeyPairId": doc["KeyPairId"]}
        if tags:
            out["Tags"] = tags
        return out

    def describe_key_pairs(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = with_tags(self.resources, scope, self.resources.all(scope, KIND), "KeyPairId")
        names = request.get("KeyNames") or []
        ids = request.get("KeyPairIds") or []
        if names:
            by_name = {d["KeyName"]: d for d in docs}
            missing = [n for n in names if n not in by_name]
            if missing:
                raise _not_found(missing[0])
            docs = [d for d in docs if d["KeyName"] in names]
        if ids:
            by_id = {d["KeyPairId"]: d for d in docs}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise ServiceError("InvalidKeyPair.NotFound", f"The key pair ID '{missing[0]}' does not exist", 400)
            docs = [d for d in docs if d["KeyPairId"] in ids]
        docs = filters.apply(docs, request.get("Filters"), _FILTERS)
        if not request.get("IncludePublicKey"):
            docs = [{k: v for k, v in d.items() if k != "PublicKey"} for d in docs]
        return {"KeyPairs": docs}

    def delete_key_pair(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name, key_id = request.get("KeyName"), request.get("KeyPairId")
        if not name and not key_id:
            raise missing_parameter("The request must contain the parameter KeyName or KeyPairId")
        with self.env.db.transaction():
            found = None
            for doc in self.resources.all(scope, KIND):
                if (name and doc["KeyName"] == name) or (key_id and doc["KeyPairId"] == key_id):
                    found = doc
                    break
            if found is None:
                # AWS answers success for a name that does not exist.
                return {"Return": True}
            self.resources.delete(scope, found["KeyPairId"])
        return {"Return": True, "KeyPairId": found["KeyPairId"]}

    def _store_key_pair(self, scope: Scope, name: str, key_type: str, fingerprint: str, public_key: str,
                        tags: list[dict]) -> dict:
        doc = {
            "KeyPairId": new_id("key"),
            "KeyFingerprint": fingerprint,
            "KeyName": name,
            "KeyType": key_type,
            "CreateTime": now_iso(),
            "PublicKey": public_key,
        }
        with self.env.db.transaction():
            if self.key_pair_by_name(scope, name):
                raise _duplicate(name)
            self.resources.insert(scope, KIND, doc["KeyPairId"], doc)
            if tags:
                self.resources.set_tags(scope, doc["KeyPairId"], tags)
        return doc

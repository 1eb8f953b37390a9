"""Security groups and their rules.

A rule is a resource of its own (kind "security-group-rule", the SecurityGroupRule shape);
a group's IpPermissions / IpPermissionsEgress are assembled from its rules when described,
grouping rules with the same protocol and ports into one permission as AWS answers.

For other families: `get_group(resources, scope, group_id)`, `default_group_id(resources,
scope, vpc_id)` and `resolve_groups(resources, scope, vpc_id, group_ids, group_names)` (what
RunInstances and CreateNetworkInterface use: ids must exist and be in the VPC; names are
looked up in the VPC; none given -> the VPC's default group).
"""

from __future__ import annotations

import ipaddress

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import (
    check_id, dependency_violation, invalid_parameter, invalid_parameter_combination, invalid_parameter_value,
    missing_parameter, not_found)
from gureum.services.ec2.store import Resources, Scope, new_id, paginate, with_tags
from gureum.services.ec2.tags import tag_specifications
from gureum.services.ec2.vpcs import default_vpc_id, get_vpc

MAX_RULES = 60  # per direction (Amazon VPC quota "Inbound or outbound rules per security group")

_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1", "-1": "-1",
                   "tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6"}


def group_not_found(group: str, vpc_id: str | None = None) -> ServiceError:
    if vpc_id:
        return not_found("InvalidGroup.NotFound",
                         f"The security group '{group}' does not exist in default VPC '{vpc_id}'")
    return not_found("InvalidGroup.NotFound", f"The security group '{group}' does not exist")


def get_group(resources: Resources, scope: Scope, group_id: str | None) -> dict:
    """The group's stored document (without its permissions), or InvalidGroup.NotFound."""
    if not group_id:
        raise missing_parameter("The request must contain the parameter groupId")
    check_id(group_id, "sg", "InvalidGroupId.Malformed")
    doc = resources.get(scope, "security-group", group_id)
    if doc is None:
        raise group_not_found(group_id)
    return doc


def default_group_id(resources: Resources, scope: Scope, vpc_id: str) -> str | None:
    return next((g["GroupId"] for g in resources.all(scope, "security-group")
                 if g["VpcId"] == vpc_id and g["GroupName"] == "default"), None)


def resolve_groups(resources: Resources, scope: Scope, vpc_id: str, group_ids: list[str] | None = None,
                   group_names: list[str] | None = None, subnet_id: str | None = None) -> list[dict]:
    """[{"GroupId", "GroupName"}] for an instance or interface in `vpc_id`.

    Unknown ids: InvalidGroup.NotFound; a group of another VPC: InvalidParameter
    "Security group sg-... and subnet subnet-... belong to different networks." (pass the
    subnet to have it named). No groups given: the VPC's default group.
    """
    out: list[dict] = []
    groups = resources.all(scope, "security-group")
    by_id = {g["GroupId"]: g for g in groups}
    for gid in group_ids or []:
        check_id(gid, "sg", "InvalidGroupId.Malformed")
        g = by_id.get(gid)
        if g is None:
            raise group_not_found(gid)
        if g["VpcId"] != vpc_id:
            where = f"subnet {subnet_id}" if subnet_id else "subnet"
            raise invalid_parameter(f"Security group {gid} and {where} belong to different networks.")
        out.append({"GroupId": gid, "GroupName": g["GroupName"]})
    for name in group_names or []:
        g = next((g for g in groups if g["VpcId"] == vpc_id and g["GroupName"] == name), None)
        if g is None:
            raise group_not_found(name)
        out.append({"GroupId": g["GroupId"], "GroupName": name})
    if not out:
        gid = default_group_id(resources, scope, vpc_id)
        if gid:
            out.append({"GroupId": gid, "GroupName": "default"})
    return list({g["GroupId"]: g for g in out}.values())


# ---- rules ---------------------------------------------------------------------------------

def _protocol(value) -> str:
    text = str(value if value is not None else "").strip().lower()
    if text in _PROTOCOL_NAMES:
        return _PROTOCOL_NAMES[text]
    if text.isdigit() and 0 <= int(text) <= 255:
        return text
    raise invalid_parameter_value(f"Invalid value '{value}' for IP protocol. Unknown protocol.")


def _ports(protocol: str, from_port, to_port) -> tuple[int, int]:
    if protocol in ("tcp", "udp"):
        if from_port is None or to_port is None:
            raise invalid_parameter_value(
                "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
        for p in (from_port, to_port):
            if not 0 <= p <= 65535:
                raise ServiceError("InvalidParameterValue", f"Invalid TCP/UDP port ({p}) out of range", 400)
        if from_port > to_port:
            raise invalid_parameter_value(
                f"Invalid TCP/UDP port range - from port ({from_port}) is greater than to port ({to_port}).")
        return from_port, to_port
    if protocol in ("icmp", "icmpv6"):
        if from_port is None or to_port is None:
            raise invalid_parameter_value("Invalid value 'Must specify both from and to ports with ICMP.' for portRange.")
        if not -1 <= from_port <= 255:
            raise ServiceError("InvalidParameterValue", f"Invalid value '{from_port}' for icmp type", 400)
        if not -1 <= to_port <= 255:
            raise ServiceError("InvalidParameterValue", f"Invalid value '{to_port}' for icmp code", 400)
        return from_port, to_port
    return -1, -1


def _cidr(value: str, v6: bool) -> str:
    try:
        net = ipaddress.IPv6Network(value, strict=False) if v6 else ipaddress.IPv4Network(value, strict=False)
        if "/" not in value:
            raise ValueError
    except ValueError:
        param = "cidrIpv6" if v6 else "cidrIp"
        raise invalid_parameter_value(f"CIDR block {value} is malformed") if not v6 else \
            invalid_parameter_value(f"Invalid IPv6 CIDR block {value} for parameter {param}")
    return str(net) if str(net) == value else value


def requested_rules(resources: Resources, scope: Scope, group: dict, request: dict, egress: bool) -> list[dict]:
    """The request's rules (IpPermissions or the legacy flat parameters) in SecurityGroupRule form."""
    perms = list(request.get("IpPermissions") or [])
    flat = {k: request.get(k) for k in ("IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName",
                                        "SourceSecurityGroupOwnerId")}
    if any(v is not None for v in flat.values()):
        if perms:
            raise invalid_parameter_combination(
                "The parameter 'ipPermissions' may not be used in combination with 'ipProtocol'")
        perm: dict = {"IpProtocol": flat["IpProtocol"] or "-1", "FromPort": flat["FromPort"],
                      "ToPort": flat["ToPort"]}
        if flat["CidrIp"]:
            perm["IpRanges"] = [{"CidrIp": flat["CidrIp"]}]
        if flat["SourceSecurityGroupName"]:
            perm["UserIdGroupPairs"] = [{"GroupName": flat["SourceSecurityGroupName"],
                                         "UserId": flat["SourceSecurityGroupOwnerId"]}]
            if flat["IpProtocol"] is None:
                # A group peer alone means every protocol and port (the classic form).
                perm["IpProtocol"] = "-1"
        perms.append(perm)
    if not perms:
        raise missing_parameter("No IpPermissions specified")
    rules = []
    for perm in perms:
        protocol = _protocol(perm.get("IpProtocol"))
        low, high = _ports(protocol, perm.get("FromPort"), perm.get("ToPort"))
        base = {"GroupId": group["GroupId"], "GroupOwnerId": scope.account_id, "IsEgress": egress,
                "IpProtocol": protocol, "FromPort": low, "ToPort": high}
        targets = []
        for r in perm.get("IpRanges") or []:
            targets.append(({"CidrIpv4": _cidr(r.get("CidrIp") or "", False)}, r.get("Description")))
        for r in perm.get("Ipv6Ranges") or []:
            targets.append(({"CidrIpv6": _cidr(r.get("CidrIpv6") or "", True)}, r.get("Description")))
        for r in perm.get("PrefixListIds") or []:
            targets.append(({"PrefixListId": r.get("PrefixListId")}, r.get("Description")))
        for pair in perm.get("UserIdGroupPairs") or []:
            targets.append(({"ReferencedGroupInfo": _peer(resources, scope, group, pair)}, pair.get("Description")))
        if not targets:
            raise missing_parameter("No IP ranges, prefix lists or security groups specified")
        for target, description in targets:
            rule = {**base, **target}
            if description:
                rule["Description"] = description
            rules.append(rule)
    return rules


def _peer(resources: Resources, scope: Scope, group: dict, pair: dict) -> dict:
    gid, name = pair.get("GroupId"), pair.get("GroupName")
    owner = pair.get("UserId") or scope.account_id
    if gid:
        if owner == scope.account_id and resources.get(scope, "security-group", gid) is None:
            raise group_not_found(gid)
        info = {"GroupId": gid, "UserId": owner}
    elif name:
        found = next((g for g in resources.all(scope, "security-group")
                      if g["GroupName"] == name and g["VpcId"] == group["VpcId"]), None)
        if found is None:
            raise group_not_found(name)
        info = {"GroupId": found["GroupId"], "UserId": owner}
    else:
        raise missing_parameter("Either 'groupId' or 'groupName' must be provided in a UserIdGroupPair")
    if pair.get("VpcPeeringConnectionId"):
        info["VpcPeeringConnectionId"] = pair["VpcPeeringConnectionId"]
    return info


def _key(rule: dict) -> tuple:
    """What makes two rules the same rule (descriptions aside)."""
    peer = rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("PrefixListId") or \
        (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    return rule["IsEgress"], rule["IpProtocol"], rule["FromPort"], rule["ToPort"], peer


def _describe_rule(rule: dict) -> str:
    """The rule as AWS names it in InvalidPermission.Duplicate."""
    peer = _key(rule)[4]
    protocol = rule["IpProtocol"]
    if protocol == "-1":
        what = "ALL"
    elif protocol in ("tcp", "udp"):
        what = f"{protocol.upper()}, from port: {rule['FromPort']}, to port: {rule['ToPort']}"
    elif protocol in ("icmp", "icmpv6"):
        what = f"{protocol.upper()}, type: {rule['FromPort']}, code: {rule['ToPort']}"
    else:
        what = f"protocol: {protocol}"
    return f'peer: {peer}, {what}, ALLOW'


def rules_of(resources: Resources, scope: Scope) -> dict[str, list[dict]]:
    """Every rule of the scope, by group id, oldest first."""
    out: dict[str, list[dict]] = {}
    for rule in resources.all(scope, "security-group-rule"):
        out.setdefault(rule["GroupId"], []).append(rule)
    return out


def permissions(rules: list[dict]) -> list[dict]:
    """IpPermissions assembled from rules of one direction."""
    perms: dict[tuple, dict] = {}
    for r in rules:
        key = (r["IpProtocol"], r["FromPort"], r["ToPort"])
        perm = perms.get(key)
        if perm is None:
            perm = {"IpProtocol": r["IpProtocol"], "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                    "UserIdGroupPairs": []}
            if r["IpProtocol"] != "-1":
                perm["FromPort"], perm["ToPort"] = r["FromPort"], r["ToPort"]
            perms[key] = perm
        described = {"Description": r["Description"]} if r.get("Description") else {}
        if "CidrIpv4" in r:
            perm["IpRanges"].append({"CidrIp": r["CidrIpv4"], **described})
        elif "CidrIpv6" in r:
            perm["Ipv6Ranges"].append({"CidrIpv6": r["CidrIpv6"], **described})
        elif "PrefixListId" in r:
            perm["PrefixListIds"].append({"PrefixListId": r["PrefixListId"], **described})
        else:
            perm["UserIdGroupPairs"].append({**r["ReferencedGroupInfo"], **described})
    return list(perms.values())


def group_view(doc: dict, rules: list[dict]) -> dict:
    return {**doc, "IpPermissions": permissions([r for r in rules if not r["IsEgress"]]),
            "IpPermissionsEgress": permissions([r for r in rules if r["IsEgress"]])}


_GROUP_FILTERS = {
    **filters.paths({"description": "Description", "group-id": "GroupId", "group-name": "GroupName",
                     "owner-id": "OwnerId", "vpc-id": "VpcId"}),
    **{f"{prefix}ip-permission.{name}": filters.path(f"{key}.{p}")
       for prefix, key in (("", "IpPermissions"), ("egress.", "IpPermissionsEgress"))
       for name, p in (("cidr", "IpRanges.CidrIp"), ("from-port", "FromPort"), ("to-port", "ToPort"),
                       ("protocol", "IpProtocol"), ("group-id", "UserIdGroupPairs.GroupId"),
                       ("group-name", "UserIdGroupPairs.GroupName"), ("ipv6-cidr", "Ipv6Ranges.CidrIpv6"),
                       ("prefix-list-id", "PrefixListIds.PrefixListId"), ("user-id", "UserIdGroupPairs.UserId"))},
}

_RULE_FILTERS = filters.paths({"group-id": "GroupId", "security-group-rule-id": "SecurityGroupRuleId"})


class SecurityGroupOperations:
    resources: Resources

    def create_security_group(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name = request.get("GroupName")
        description = request.get("Description")
        if not name:
            raise missing_parameter("The request must contain the parameter groupName")
        if not description:
            raise missing_parameter("The request must contain the parameter groupDescription")
        if name == "default":
            raise ServiceError("InvalidGroup.Reserved", "The security group 'default' is reserved", 400)
        if name.lower().startswith("sg-"):
            raise invalid_parameter_value(
                f"Value ({name}) for parameter GroupName is invalid. Group names may not be in the format sg-*.")
        if len(name) > 255:
            raise invalid_parameter_value(f"Value ({name}) for parameter GroupName is invalid. "
                                          "Character sets beyond ASCII are not supported.")
        if len(description) > 255:
            raise invalid_parameter_value("Value for parameter GroupDescription is invalid. "
                                          "Length exceeds maximum of 255.")
        tags = tag_specifications(request, ("security-group",))
        with self.env.db.transaction():
            vpc_id = request.get("VpcId") or default_vpc_id(self.resources, scope)
            if not vpc_id:
                raise ServiceError("VPCIdNotSpecified", "No default VPC for this user", 400)
            get_vpc(self.resources, scope, vpc_id)
            if any(g["VpcId"] == vpc_id and g["GroupName"] == name
                   for g in self.resources.all(scope, "security-group")):
                raise ServiceError("InvalidGroup.Duplicate",
                                   f"The security group '{name}' already exists for VPC '{vpc_id}'", 400)
            sg = new_id("sg")
            arn = f"arn:aws:ec2:{scope.region}:{scope.account_id}:security-group/{sg}"
            self.resources.insert(scope, "security-group", sg, {
                "GroupId": sg, "GroupName": name, "Description": description, "VpcId": vpc_id,
                "OwnerId": scope.account_id, "SecurityGroupArn": arn})
            self.resources.set_tags(scope, sg, tags.get("security-group", []))
            self._insert_rule(scope, {"GroupId": sg, "GroupOwnerId": scope.account_id, "IsEgress": True,
                                      "IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0"})
        out = {"GroupId": sg, "SecurityGroupArn": arn}
        if tags.get("security-group"):
            out["Tags"] = tags["security-group"]
        return out

    def _insert_rule(self, scope: Scope, rule: dict) -> dict:
        rule_id = new_id("sgr")
        doc = {"SecurityGroupRuleId": rule_id, **rule,
               "SecurityGroupRuleArn": f"arn:aws:ec2:{scope.region}:{scope.account_id}:security-group-rule/{rule_id}"}
        self.resources.insert(scope, "security-group-rule", rule_id, doc)
        return doc

    def _target_group(self, scope: Scope, request: dict) -> dict:
        gid, name = request.get("GroupId"), request.get("GroupName")
        if gid:
            return get_group(self.resources, scope, gid)
        if not name:
            raise missing_parameter("The request must contain the parameter groupId")
        vpc_id = default_vpc_id(self.resources, scope)
        found = next((g for g in self.resources.all(scope, "security-group")
                      if g["GroupName"] == name and g["VpcId"] == vpc_id), None)
        if found is None:
            raise group_not_found(name, vpc_id)
        return found

    def describe_security_groups(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("GroupIds") or []
        names = request.get("GroupNames") or []
        groups = self.resources.all(scope, "security-group")
        docs = groups
        if ids or names:
            for gid in ids:
                check_id(gid, "sg", "InvalidGroupId.Malformed")
            by_id = {g["GroupId"]: g for g in groups}
            missing = [g for g in ids if g not in by_id]
            if missing:
                raise group_not_found(missing[0])
            default = default_vpc_id(self.resources, scope)
            chosen = [by_id[g] for g in dict.fromkeys(ids)]
            for name in names:
                found = [g for g in groups if g["GroupName"] == name and g["VpcId"] == default]
                if not found:
                    raise group_not_found(name, default)
                chosen.extend(found)
            docs = list({g["GroupId"]: g for g in chosen}.values())
        rules = rules_of(self.resources, scope)
        docs = [group_view(d, rules.get(d["GroupId"], [])) for d in docs]
        docs = filters.apply(with_tags(self.resources, scope, docs, "GroupId"), request.get("Filters"),
                             _GROUP_FILTERS)
        page, token = paginate(docs, request, ids_given="GroupIds")
        return {"SecurityGroups": page, **({"NextToken": token} if token else {})}

    def delete_security_group(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            group = self._target_group(scope, request)
            gid = group["GroupId"]
            if group["GroupName"] == "default":
                raise ServiceError("CannotDelete",
                                   f'the specified group: "{gid}" name: "default" cannot be deleted by a user', 400)
            in_use = any(any(g["GroupId"] == gid for g in eni.get("Groups", []))
                         for eni in self.resources.all(scope, "network-interface"))
            referenced = any(r.get("ReferencedGroupInfo", {}).get("GroupId") == gid and r["GroupId"] != gid
                             for r in self.resources.all(scope, "security-group-rule"))
            if in_use or referenced:
                raise dependency_violation(f"resource {gid} has a dependent object")
            for rule in self.resources.all(scope, "security-group-rule"):
                if rule["GroupId"] == gid:
                    self.resources.delete(scope, rule["SecurityGroupRuleId"])
            self.resources.delete(scope, gid)
        return {"Return": True, "GroupId": gid}

    # ---- rules -----------------------------------------------------------------------------

    def _authorize(self, ctx: RequestContext, request: dict, egress: bool) -> dict:
        scope = self.scope(ctx)
        tags = tag_specifications(request, ("security-group-rule",)).get("security-group-rule", [])
        with self.env.db.transaction():
            group = self._target_group(scope, request)
            wanted = requested_rules(self.resources, scope, group, request, egress)
            existing = [r for r in rules_of(self.resources, scope).get(group["GroupId"], []) if r["IsEgress"] == egress]
            keys = {_key(r) for r in existing}
            for rule in wanted:
                if _key(rule) in keys:
                    raise ServiceError("InvalidPermission.Duplicate",
                                       f'the specified rule "{_describe_rule(rule)}" already exists', 400)
                keys.add(_key(rule))
            if len(existing) + len(wanted) > MAX_RULES:
                raise ServiceError("RulesPerSecurityGroupLimitExceeded",
                                   "The maximum number of rules per security group has been reached.", 400)
            made = []
            for rule in wanted:
                doc = self._insert_rule(scope, rule)
                self.resources.set_tags(scope, doc["SecurityGroupRuleId"], tags)
                made.append({**doc, **({"Tags": tags} if tags else {})})
        return {"Return": True, "SecurityGroupRules": made}

    def authorize_security_group_ingress(self, ctx: RequestContext, request: dict) -> dict:
        return self._authorize(ctx, request, False)

    def authorize_security_group_egress(self, ctx: RequestContext, request: dict) -> dict:
        return self._authorize(ctx, request, True)

    def _revoke(self, ctx: RequestContext, request: dict, egress: bool) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            group = self._target_group(scope, request)
            existing = [r for r in rules_of(self.resources, scope).get(group["GroupId"], []) if r["IsEgress"] == egress]
            doomed: list[dict] = []
            unknown: list[dict] = []
            if request.get("SecurityGroupRuleIds"):
                by_id = {r["SecurityGroupRuleId"]: r for r in existing}
                for rid in request["SecurityGroupRuleIds"]:
                    if rid not in by_id:
                        raise not_found("InvalidSecurityGroupRuleId.NotFound",
                                        f"The security group rule ID '{rid}' does not exist")
                    doomed.append(by_id[rid])
            else:
                by_key = {_key(r): r for r in existing}
                for rule in requested_rules(self.resources, scope, group, request, egress):
                    found = by_key.get(_key(rule))
                    (doomed if found else unknown).append(found or rule)
            if unknown and not doomed:
                raise ServiceError("InvalidPermission.NotFound",
                                   "The specified rule does not exist in this security group.", 400)
            for r in doomed:
                self.resources.delete(scope, r["SecurityGroupRuleId"])
        out: dict = {"Return": True, "RevokedSecurityGroupRules": [
            {k: v for k, v in {"SecurityGroupRuleId": r["SecurityGroupRuleId"], "GroupId": r["GroupId"],
                               "IsEgress": r["IsEgress"], "IpProtocol": r["IpProtocol"], "FromPort": r["FromPort"],
                               "ToPort": r["ToPort"], "CidrIpv4": r.get("CidrIpv4"), "CidrIpv6": r.get("CidrIpv6"),
                               "PrefixListId": r.get("PrefixListId"), "Description": r.get("Description"),
                               "ReferencedSecurityGroupId": r.get("ReferencedGroupInfo", {}).get("GroupId")}.items()
             if v is not None} for r in doomed]}
        if unknown:
            out["UnknownIpPermissions"] = permissions(unknown)
        return out

    def revoke_security_group_ingress(self, ctx: RequestContext, request: dict) -> dict:
        return self._revoke(ctx, request, False)

    def revoke_security_group_egress(self, ctx: RequestContext, request: dict) -> dict:
        return self._revoke(ctx, request, True)

    def describe_security_group_rules(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        rules = self.resources.all(scope, "security-group-rule")
        ids = request.get("SecurityGroupRuleIds") or []
        if ids:
            by_id = {r["SecurityGroupRuleId"]: r for r in rules}
            for rid in ids:
                if rid not in by_id:
                    raise not_found("InvalidSecurityGroupRuleId.NotFound",
                                    f"The security group rule ID '{rid}' does not exist")
            rules = [by_id[r] for r in dict.fromkeys(ids)]
        docs = filters.apply(with_tags(self.resources, scope, rules, "SecurityGroupRuleId"), request.get("Filters"),
                             _RULE_FILTERS)
        page, token = paginate(docs, request, ids_given="SecurityGroupRuleIds")
        return {"SecurityGroupRules": page, **({"NextToken": token} if token else {})}

    def modify_security_group_rules(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            group = get_group(self.resources, scope, request.get("GroupId"))
            existing = {r["SecurityGroupRuleId"]: r
                        for r in rules_of(self.resources, scope).get(group["GroupId"], [])}
            for update in request.get("SecurityGroupRules") or []:
                rid = update.get("SecurityGroupRuleId")
                rule = existing.get(rid)
                if rule is None:
                    raise not_found("InvalidSecurityGroupRuleId.NotFound",
                                    f"The security group rule ID '{rid}' does not exist")
                spec = update.get("SecurityGroupRule") or {}
                protocol = _protocol(spec.get("IpProtocol", rule["IpProtocol"]))
                low, high = _ports(protocol, spec.get("FromPort", rule["FromPort"]), spec.get("ToPort", rule["ToPort"]))
                new = {k: v for k, v in rule.items()
                       if k not in ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupInfo", "Description")}
                new.update({"IpProtocol": protocol, "FromPort": low, "ToPort": high})
                if spec.get("CidrIpv4"):
                    new["CidrIpv4"] = _cidr(spec["CidrIpv4"], False)
                elif spec.get("CidrIpv6"):
                    new["CidrIpv6"] = _cidr(spec["CidrIpv6"], True)
                elif spec.get("PrefixListId"):
                    new["PrefixListId"] = spec["PrefixListId"]
                elif spec.get("ReferencedGroupId"):
                    new["ReferencedGroupInfo"] = _peer(self.resources, scope, group,
                                                       {"GroupId": spec["ReferencedGroupId"]})
                else:
                    for k in ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupInfo"):
                        if k in rule:
                            new[k] = rule[k]
                if spec.get("Description"):
                    new["Description"] = spec["Description"]
                self.resources.update(scope, rid, new)
        return {"Return": True}

    def _update_descriptions(self, ctx: RequestContext, request: dict, egress: bool) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            group = self._target_group(scope, request)
            existing = [r for r in rules_of(self.resources, scope).get(group["GroupId"], []) if r["IsEgress"] == egress]
            if request.get("SecurityGroupRuleDescriptions"):
                by_id = {r["SecurityGroupRuleId"]: r for r in existing}
                for item in request["SecurityGroupRuleDescriptions"]:
                    rule = by_id.get(item.get("SecurityGroupRuleId"))
                    if rule is None:
                        raise not_found("InvalidSecurityGroupRuleId.NotFound",
                                        f"The security group rule ID '{item.get('SecurityGroupRuleId')}' does not exist")
                    rule["Description"] = item.get("Description") or ""
                    self.resources.update(scope, rule["SecurityGroupRuleId"], rule)
                return {"Return": True}
            by_key = {_key(r): r for r in existing}
            for rule in requested_rules(self.resources, scope, group, request, egress):
                found = by_key.get(_key(rule))
                if found is None:
                    raise ServiceError("InvalidPermission.NotFound",
                                       "The specified rule does not exist in this security group.", 400)
                if rule.get("Description"):
                    found["Description"] = rule["Description"]
                else:
                    found.pop("Description", None)
                self.resources.update(scope, found["SecurityGroupRuleId"], found)
        return {"Return": True}

    def update_security_group_rule_descriptions_ingress(self, ctx: RequestContext, request: dict) -> dict:
        return self._update_descriptions(ctx, request, False)

    def update_security_group_rule_descriptions_egress(self, ctx: RequestContext, request: dict) -> dict:
        return self._update_descriptions(ctx, request, True)

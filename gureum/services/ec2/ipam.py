"""Who holds which address: private IPs inside subnets, public IPv4 addresses per region.

A subnet's private addresses are handed out lowest first, skipping the four AWS reserves at
the start of every subnet (network, router, DNS, future use) and the broadcast address at
the end. Public IPv4 addresses (auto-assigned and Elastic IPs) come from blocks AWS
publishes for the region and are unique across accounts. DNS names follow AWS's forms.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random

from gureum.services.ec2.store import Scope
from gureum.store import Database

MIGRATIONS = [
    """
    CREATE TABLE ec2_private_ips (
        account_id TEXT NOT NULL, region TEXT NOT NULL, subnet_id TEXT NOT NULL,
        ip INTEGER NOT NULL, holder TEXT NOT NULL,
        PRIMARY KEY (account_id, region, subnet_id, ip));
    CREATE INDEX ec2_private_ips_holder ON ec2_private_ips (account_id, region, holder);
    CREATE TABLE ec2_public_ips (
        region TEXT NOT NULL, ip TEXT NOT NULL, account_id TEXT NOT NULL, holder TEXT NOT NULL,
        PRIMARY KEY (region, ip));
    """
]

# Blocks AWS announces for EC2 in a region (ip-ranges.json); others fall back to 3.x blocks.
_PUBLIC_BLOCKS = {
    "us-east-1": ("3.80.0.0/12", "18.204.0.0/14", "34.192.0.0/12", "44.192.0.0/11", "54.80.0.0/13"),
    "us-east-2": ("3.12.0.0/14", "18.216.0.0/14", "52.14.0.0/16"),
    "us-west-1": ("13.52.0.0/16", "54.176.0.0/15"),
    "us-west-2": ("34.208.0.0/12", "35.80.0.0/12", "54.184.0.0/13"),
    "ap-northeast-1": ("3.112.0.0/14", "13.112.0.0/14", "54.64.0.0/15"),
    "ap-northeast-2": ("3.34.0.0/15", "13.124.0.0/16", "15.164.0.0/15", "43.200.0.0/14", "52.78.0.0/16"),
    "eu-west-1": ("34.240.0.0/13", "52.16.0.0/15", "54.216.0.0/14"),
    "eu-central-1": ("3.64.0.0/14", "18.184.0.0/15", "52.28.0.0/16"),
}


def _blocks(region: str) -> tuple[ipaddress.IPv4Network, ...]:
    names = _PUBLIC_BLOCKS.get(region)
    if not names:
        second = int(hashlib.sha256(region.encode()).hexdigest(), 16) % 200 + 8
        names = (f"3.{second}.0.0/16",)
    return tuple(ipaddress.ip_network(n) for n in names)


# ---- private addresses ---------------------------------------------------------------------

def subnet_range(cidr: str) -> tuple[int, int]:
    """The first and last assignable address of a subnet (as integers)."""
    net = ipaddress.ip_network(cidr)
    return int(net.network_address) + 4, int(net.broadcast_address) - 1


def used_private_ips(db: Database, scope: Scope, subnet_id: str) -> set[int]:
    rows = db.query("SELECT ip FROM ec2_private_ips WHERE account_id = ? AND region = ? AND subnet_id = ?",
                    (scope.account_id, scope.region, subnet_id))
    return {r["ip"] for r in rows}


def used_counts(db: Database, scope: Scope) -> dict[str, int]:
    """How many addresses each subnet of the scope has handed out."""
    rows = db.query("SELECT subnet_id, COUNT(*) AS n FROM ec2_private_ips WHERE account_id = ? AND region = ?"
                    " GROUP BY subnet_id", (scope.account_id, scope.region))
    return {r["subnet_id"]: r["n"] for r in rows}


def allocate_private_ip(db: Database, scope: Scope, subnet_id: str, cidr: str, holder: str,
                        wanted: str | None = None) -> str | None:
    """Reserve `wanted` (None when taken or outside the range) or the lowest free address
    (None when the subnet is full)."""
    first, last = subnet_range(cidr)
    used = used_private_ips(db, scope, subnet_id)
    if wanted is not None:
        ip = int(ipaddress.ip_address(wanted))
        if ip in used or not first <= ip <= last:
            return None
    else:
        ip = next((i for i in range(first, last + 1) if i not in used), None)
        if ip is None:
            return None
    db.execute("INSERT INTO ec2_private_ips (account_id, region, subnet_id, ip, holder) VALUES (?, ?, ?, ?, ?)",
               (scope.account_id, scope.region, subnet_id, ip, holder))
    return str(ipaddress.ip_address(ip))


def private_ip_holder(db: Database, scope: Scope, subnet_id: str, address: str) -> str | None:
    row = db.query_one("SELECT holder FROM ec2_private_ips WHERE account_id = ? AND region = ? AND subnet_id = ?"
                       " AND ip = ?", (scope.account_id, scope.region, subnet_id, int(ipaddress.ip_address(address))))
    return row["holder"] if row else None


def release_private_ips(db: Database, scope: Scope, holder: str, addresses: list[str] | None = None) -> None:
    """Give back a holder's addresses (all of them when `addresses` is None)."""
    if addresses is None:
        db.execute("DELETE FROM ec2_private_ips WHERE account_id = ? AND region = ? AND holder = ?",
                   (scope.account_id, scope.region, holder))
        return
    for a in addresses:
        db.execute("DELETE FROM ec2_private_ips WHERE account_id = ? AND region = ? AND holder = ? AND ip = ?",
                   (scope.account_id, scope.region, holder, int(ipaddress.ip_address(a))))


# ---- public addresses ----------------------------------------------------------------------

def allocate_public_ip(db: Database, scope: Scope, holder: str) -> str:
    """A public IPv4 address of the region no one else holds."""
    blocks = _blocks(scope.region)
    rng = random.SystemRandom()
    while True:
        block = rng.choice(blocks)
        # Skip each block's first and last /24-ish edge values (.0 and .255 look odd as hosts).
        ip = ipaddress.ip_address(int(block.network_address) + rng.randrange(1, block.num_addresses - 1))
        if ip.packed[-1] in (0, 255):
            continue
        text = str(ip)
        if db.query_one("SELECT 1 FROM ec2_public_ips WHERE region = ? AND ip = ?", (scope.region, text)):
            continue
        db.execute("INSERT INTO ec2_public_ips (region, ip, account_id, holder) VALUES (?, ?, ?, ?)",
                   (scope.region, text, scope.account_id, holder))
        return text


def release_public_ip(db: Database, scope: Scope, address: str) -> None:
    db.execute("DELETE FROM ec2_public_ips WHERE region = ? AND ip = ?", (scope.region, address))


# ---- names ---------------------------------------------------------------------------------

def private_dns_name(region: str, address: str) -> str:
    """ip-172-31-5-9.ec2.internal in us-east-1, ip-...REGION.compute.internal elsewhere."""
    host = "ip-" + address.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


def public_dns_name(region: str, address: str) -> str:
    """ec2-3-80-1-2.compute-1.amazonaws.com in us-east-1, ec2-...REGION.compute.amazonaws.com elsewhere."""
    host = "ec2-" + address.replace(".", "-")
    return f"{host}.compute-1.amazonaws.com" if region == "us-east-1" else f"{host}.{region}.compute.amazonaws.com"


def mac_address() -> str:
    """A locally administered unicast MAC, as EC2's 0a:/02:/06: addresses are."""
    rest = random.SystemRandom().getrandbits(40).to_bytes(5, "big")
    return ":".join(f"{b:02x}" for b in (bytes([0x02 | (rest[0] & 0x0C)]) + rest[1:] + bytes([rest[0]])))

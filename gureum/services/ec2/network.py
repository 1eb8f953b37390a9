"""The VPC networking families composed into one mixin for the EC2 provider.

Its own tables (address pools, ipam.py) migrate under the component "ec2-network".
"""

from __future__ import annotations

from gureum.services.ec2 import ipam
from gureum.services.ec2.addresses import AddressOperations
from gureum.services.ec2.flow_logs import FlowLogOperations
from gureum.services.ec2.internet_gateways import InternetGatewayOperations
from gureum.services.ec2.nat_gateways import NatGatewayOperations
from gureum.services.ec2.network_acls import NetworkAclOperations
from gureum.services.ec2.network_interfaces import NetworkInterfaceOperations
from gureum.services.ec2.peering import PeeringOperations
from gureum.services.ec2.route_tables import RouteTableOperations
from gureum.services.ec2.security_groups import SecurityGroupOperations
from gureum.services.ec2.subnets import SubnetOperations
from gureum.services.ec2.transit_gateways import TransitGatewayOperations
from gureum.services.ec2.vpc_endpoints import VpcEndpointOperations
from gureum.services.ec2.vpcs import VpcOperations


class NetworkOperations(
    VpcOperations,
    SubnetOperations,
    RouteTableOperations,
    InternetGatewayOperations,
    NatGatewayOperations,
    NetworkAclOperations,
    SecurityGroupOperations,
    NetworkInterfaceOperations,
    AddressOperations,
    PeeringOperations,
    VpcEndpointOperations,
    FlowLogOperations,
    TransitGatewayOperations,
):
    def __init__(self, env):
        super().__init__(env)
        env.db.migrate("ec2-network", ipam.MIGRATIONS)

"""Amazon EC2's provider: the operation families composed (see the package docstring)."""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.services.base import BaseProvider, ServiceEnv
from gureum.services.ec2 import default_vpc
from gureum.services.ec2.ebs_defaults import EbsDefaultOperations
from gureum.services.ec2.images import ImageOperations
from gureum.services.ec2.instance_attributes import InstanceAttributeOperations
from gureum.services.ec2.instance_types import InstanceTypeOperations
from gureum.services.ec2.instances import InstanceOperations
from gureum.services.ec2.key_pairs import KeyPairOperations
from gureum.services.ec2.launch_templates import LaunchTemplateOperations
from gureum.services.ec2.network import NetworkOperations
from gureum.services.ec2.regions import RegionOperations
from gureum.services.ec2.snapshots import SnapshotOperations
from gureum.services.ec2.store import MIGRATIONS, Resources, Scope
from gureum.services.ec2.tags import TagOperations
from gureum.services.ec2.volumes import VolumeOperations


class Provider(
    RegionOperations,
    TagOperations,
    ImageOperations,
    InstanceTypeOperations,
    KeyPairOperations,
    InstanceOperations,
    InstanceAttributeOperations,
    VolumeOperations,
    SnapshotOperations,
    EbsDefaultOperations,
    LaunchTemplateOperations,
    NetworkOperations,
    BaseProvider,
):
    service_name = "ec2"
    MIGRATIONS = MIGRATIONS

    def __init__(self, env: ServiceEnv):
        super().__init__(env)
        self.resources = Resources(env.db)
        self._ready: set[Scope] = set()

    def scope(self, ctx: RequestContext) -> Scope:
        """The caller's account and region, with its default VPC made on first use."""
        scope = Scope.of(ctx)
        if scope not in self._ready:
            with self.env.db.transaction():
                default_vpc.ensure(self.resources, scope)
            self._ready.add(scope)
        self.settle_due_instances(scope)  # instance states that came due, before anything reads them
        return scope

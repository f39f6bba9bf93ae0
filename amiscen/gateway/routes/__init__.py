"""The function sets the head-end serves, each registering its paths on the router."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend


def register(app: Headend) -> None:
    from amiscen.gateway.routes import der, device, events, flow, metering, pubsub

    for module in (device, der, metering, events, flow, pubsub):
        module.register(app)

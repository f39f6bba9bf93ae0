"""Every top-level resource by its element name."""

from __future__ import annotations

from amiscen.sep.model import common, der, device, events, metering, misc, pubsub

RESOURCES: dict[str, type] = {
    name: obj
    for module in (device, metering, events, der, misc, pubsub)
    for name in module.__all__
    if isinstance(obj := getattr(module, name), type) and issubclass(obj, common.Resource)
}


def resource_class(element: str) -> type | None:
    return RESOURCES.get(element)

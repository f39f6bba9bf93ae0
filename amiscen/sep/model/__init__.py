"""2030.5 resources as frozen dataclasses.

Attribute names are the 2030.5 element and attribute names exactly (``lFDI``, ``mRID``, ``EndDeviceListLink``),
so a template, the parser and the standard all read alike. Hex fields are ints annotated with their width.
"""

from amiscen.sep.model.common import *  # noqa: F403
from amiscen.sep.model.der import *  # noqa: F403
from amiscen.sep.model.device import *  # noqa: F403
from amiscen.sep.model.events import *  # noqa: F403
from amiscen.sep.model.metering import *  # noqa: F403
from amiscen.sep.model.misc import *  # noqa: F403
from amiscen.sep.model.pubsub import *  # noqa: F403
from amiscen.sep.model.registry import RESOURCES, resource_class

__all__ = ["RESOURCES", "resource_class"]

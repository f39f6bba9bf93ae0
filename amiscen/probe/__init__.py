"""`amiscen test`: a probe of a 2030.5 gateway, meter by meter, judged by the standard."""

from amiscen.probe.checks import ProbeCheck, ProbeTarget, probe

__all__ = ["ProbeCheck", "ProbeTarget", "probe"]

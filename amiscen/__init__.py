"""amiscen: an IEEE 2030.5 (SEP 2.0) AMI network simulator."""

__version__ = "0.1.0"

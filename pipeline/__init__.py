"""netchange: network-policy change automation (validate, plan, deploy, verify)."""

__version__ = "0.1.0"

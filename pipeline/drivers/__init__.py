"""Platform drivers: one module per platform, each exporting DRIVER (see base.Driver)."""

from .base import Capabilities, Driver, get_driver

__all__ = ["Capabilities", "Driver", "get_driver"]

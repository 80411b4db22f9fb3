"""Platform drivers: one module per platform, each exporting DRIVER (see base.Driver)."""

from .base import Capabilities, Driver, all_platforms, get_driver

__all__ = ["Capabilities", "Driver", "all_platforms", "get_driver"]

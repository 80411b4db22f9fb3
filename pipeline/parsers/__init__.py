"""Running-config parsers, one module per platform: parse(text) -> DevicePolicy."""

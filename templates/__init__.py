"""Jinja2 macros, one folder per platform; installed as the package data `pipeline.templates`."""

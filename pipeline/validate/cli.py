import typer


def register(app: typer.Typer) -> None:
    """Adds `validate` and `schema`."""

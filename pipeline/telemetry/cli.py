import typer


def register(app: typer.Typer) -> None:
    """Adds the `agent` and `collect` commands."""

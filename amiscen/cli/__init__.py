"""The `amiscen` command: thin click commands over core functions, one error boundary."""

from amiscen.cli.app import main

__all__ = ["main"]

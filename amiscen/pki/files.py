"""Writing PKI files: atomically (temp file, then rename), private keys 0600 in 0700 directories."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from amiscen.errors import UsageError


def ensure_dir(path: Path, *, private: bool = True) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o755)
        if private:
            path.chmod(0o700)
    except PermissionError:
        raise UsageError(f"{path}: cannot create or use this directory (permission denied)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot create this directory ({exc.strerror or exc})") from None


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write ``data`` so that ``path`` is either the old file or the complete new one, never half of it.

    ``durable`` also syncs to disk before the rename (survives power loss); files that can be re-issued at
    any time (meter certificates) skip it, which makes a 10,000-meter fleet several times faster.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:
        ensure_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except PermissionError:
        raise UsageError(f"{path.parent}: cannot write here (permission denied)") from None
    except OSError as exc:
        raise UsageError(f"{path.parent}: cannot write here ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_private_key(path: Path, pem: bytes, *, durable: bool = True) -> None:
    write_atomic(path, pem, mode=0o600, durable=durable)


def read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such {what}", hint="run `amiscen certs generate SCENARIO`") from None
    except PermissionError:
        raise UsageError(f"{path}: cannot read this {what} (permission denied)") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a {what}") from None

"""Store folder names for alerts: an alert identifier made safe as a path component."""

from __future__ import annotations

import hashlib
import re

__all__ = ["alert_store_key"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_KEY = 96


def alert_store_key(identifier: str) -> str:
    """``identifier`` as a folder name: unchanged when it is plain (``KR-TEST-20250717-0001``), else
    unsafe characters become ``_`` and a short hash of the original keeps distinct ids distinct.

    Example:
        >>> alert_store_key("urn:oid:2.49.0.1/a b")
        'urn_oid_2.49.0.1_a_b-fa853287'
    """
    if not identifier or not identifier.strip():
        raise ValueError("an alert identifier is required; got an empty one")
    safe = _UNSAFE.sub("_", identifier.strip()).lstrip(".") or "_"
    if safe == identifier and len(safe) <= MAX_KEY:
        return safe
    return f"{safe[:MAX_KEY]}-{hashlib.sha1(identifier.encode()).hexdigest()[:8]}"

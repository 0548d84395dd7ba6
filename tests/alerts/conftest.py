from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _shared_fixtures() -> Path:
    # The repository sits beside shared/ (worktree, main checkout or CI clone).
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "fixtures"
        if candidate.is_dir():
            return candidate
    # A clone elsewhere (no shared/ above it) uses the copy kept in the repository.
    copy = HERE / "fixtures" / "shared"
    if copy.is_dir():
        return copy
    raise FileNotFoundError(
        "shared/fixtures not found beside the repository, nor its copy in tests/alerts/fixtures/shared"
    )


SHARED = _shared_fixtures()


@pytest.fixture
def shared():
    """``shared(kind, name)`` → bytes of a file in shared/fixtures (kind: cap or mois)."""
    return lambda kind, name: (SHARED / kind / name).read_bytes()


@pytest.fixture
def own():
    """``own(name)`` → bytes of a file in tests/alerts/fixtures."""
    return lambda name: (HERE / "fixtures" / name).read_bytes()

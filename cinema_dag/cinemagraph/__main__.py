"""``python -m cinema_dag.cinemagraph animate PHOTO ...`` (see :mod:`.cli`)."""

import sys

from .cli import main

sys.exit(main())

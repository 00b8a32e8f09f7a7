"""``python -m sim``: the supportsim command line (same as ``supportsim`` and ``python run_sim.py``)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

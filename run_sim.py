#!/usr/bin/env python3
"""supportsim command line. ``python run_sim.py`` runs the default scenario; ``--help`` for more."""
import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())

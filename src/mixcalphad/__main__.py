"""``python -m mixcalphad …``: the same command line as ``mixcalphad …``."""
import sys

from mixcalphad.cli import main

sys.exit(main())

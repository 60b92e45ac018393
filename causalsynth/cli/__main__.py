"""``python -m causalsynth.cli``: the same as the ``causalsynth`` command."""
import sys

from .app import main

sys.exit(main())

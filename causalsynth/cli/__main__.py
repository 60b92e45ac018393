"""``python -m causalsynth.cli``: the same as the ``causalsynth`` command."""
import sys

from . import main

sys.exit(main())

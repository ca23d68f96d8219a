"""The ``plan`` command line (click). Library code never imports this package.

The command line compiles the numba kernels at LLVM ``-O1`` unless ``NUMBA_OPT`` is set
(:mod:`planner.kernels.options` says why); that has to happen before numba is imported.
"""

import os

os.environ.setdefault("NUMBA_OPT", "1")

"""``python -m keras_wc.cli`` runs the ``keras-wc`` command line."""

import sys

from . import main

sys.exit(main())

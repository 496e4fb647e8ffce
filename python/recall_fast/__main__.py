"""``python -m recall_fast`` runs the command line."""

import sys

from recall_fast.cli.main import main

sys.exit(main())

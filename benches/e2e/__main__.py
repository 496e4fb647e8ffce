import sys

from benches.e2e.run import main

sys.exit(main())

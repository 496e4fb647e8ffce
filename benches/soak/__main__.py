import sys

from benches.soak.run import main

sys.exit(main())

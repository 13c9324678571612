"""`python -m rehearsal` (`make rehearse`): the offline rehearsal of the AWS path."""

import sys

from rehearsal.run import main

sys.exit(main())

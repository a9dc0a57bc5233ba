import sys

from webvi.cli import main

sys.exit(main())

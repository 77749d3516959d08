"""`python3 -m sglang_router.launch_router ...` (stand-in)."""

import sys

from sml_standin.router import main

if __name__ == '__main__':
    main(sys.argv[1:])

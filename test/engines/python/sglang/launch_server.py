"""`python3 -m sglang.launch_server ...` (stand-in)."""

import sys

from sml_standin.sglang_server import main

if __name__ == '__main__':
    main(sys.argv[1:])

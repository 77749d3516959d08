"""`python3 -m vllm.entrypoints.openai.api_server --model ...` (stand-in; same as `vllm serve`)."""

import sys

from sml_standin.vllm_server import main

if __name__ == '__main__':
    main(sys.argv[1:], prog='api_server.py')

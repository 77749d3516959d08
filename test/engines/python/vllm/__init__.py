"""Stand-in for the vllm package: `vllm serve` (bin/vllm) and `python3 -m vllm.entrypoints.openai.api_server`."""

__version__ = '0.0.0+sml.standin'

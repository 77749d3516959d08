"""Stand-in for the sglang package: only `python3 -m sglang.launch_server` is provided."""

__version__ = '0.0.0+sml.standin'

"""Stand-in for the sglang_router package: only `python3 -m sglang_router.launch_router` is provided."""

__version__ = '0.0.0+sml.standin'

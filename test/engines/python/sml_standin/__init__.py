"""Stand-in inference engines for the local test cluster (see test/cluster/README.md)."""

VERSION = '0.0.0+sml.standin'

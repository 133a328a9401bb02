"""K-City Network submissions pipeline: settings, command line and bundled sample."""

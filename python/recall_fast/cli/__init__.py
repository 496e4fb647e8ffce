"""The ``recall-fast`` command line: one module per subcommand, wired in ``main``."""

"""The `techsim` command line: thin click commands over the library."""

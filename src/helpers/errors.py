"""The exceptions users see, each reported as a single clear message: bad input, and a failed build step."""


class InputError(Exception):
    """Input (a data file or a parameters file) that the compendium cannot use.

    The message names the file, the column and the offending rows; command-line entry points print it
    without a traceback and exit with status 2.
    """


class BuildError(Exception):
    """A step of the build failed; the message says which and where to look."""

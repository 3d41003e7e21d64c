"""The one exception type users see: bad input, reported as a single clear message."""


class InputError(Exception):
    """Input (a data file or a parameters file) that the compendium cannot use.

    The message names the file, the column and the offending rows; command-line entry points print it
    without a traceback and exit with status 2.
    """

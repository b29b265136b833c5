"""The error a sub-command raises to stop with one clear line."""


class CliError(Exception):
    """Wrong input on the command line; the message says what is wrong."""

"""The exit statuses moodfeed's commands share, as shells report them for the signals they stand for."""

INTERRUPTED = 130  # stopped by Ctrl-C (or SIGTERM, taken the same way)
BROKEN_PIPE = 141  # the reader of the output went away (SIGPIPE)

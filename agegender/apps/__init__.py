"""The apps wing: the command line, the batch and Ray Data runners, output rows, and the dashboard's glue."""

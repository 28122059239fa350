"""`python -m helpdesk ...` is the `helpdesk` command (used to start the worker
with the same interpreter)."""

from helpdesk.cli import main

main()

"""Private 1:1 chat between a user and support (or between staff)."""

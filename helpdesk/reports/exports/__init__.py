"""Ticket exports: the shared rows and one module per format."""

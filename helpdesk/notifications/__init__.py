"""Persisted notifications: bell counter, toasts and the /notifications page."""

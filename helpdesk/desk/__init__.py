"""The desk itself: its settings (name, logo, colour), first-start defaults and the
administrator's setup checklist."""

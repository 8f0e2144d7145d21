"""The home page: public figures of the programme and each person's own panel, composed from the domains."""

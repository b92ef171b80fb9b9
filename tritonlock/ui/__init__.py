"""Terminal presentation (rich); nothing here decides anything."""

"""Community providers: registration, what they do, where, and how many jobs they take."""

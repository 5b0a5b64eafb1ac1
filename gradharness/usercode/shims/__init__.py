"""Stand-ins for the exercise's helper modules, supplied to user files that import them without shipping them."""

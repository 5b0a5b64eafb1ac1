"""The ``layers`` target: CS231n-style layers, each forward/backward pair checked on its own."""

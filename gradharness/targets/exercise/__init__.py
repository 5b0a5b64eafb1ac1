"""The target ``exercise``: the gradient-checking exercise's 3-layer network, its 1-D model and its own checker."""

"""Targets: what is being checked.

A target names the functions it looks for in a file (:mod:`~gradharness.targets.functions`, plain data the
evaluator reads too), how their inputs are drawn and how they are called, the reference they are held to, the
properties that apply and the mutation operators that make its likely causes. ``exercise`` is the gradient-checking
exercise's network; ``deep`` the course's L-layer model and its building blocks. See docs/architecture.md, "How to
add a target".
"""

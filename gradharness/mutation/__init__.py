"""The mutation harness: deliberately broken variants of a backward pass, run against the checker.

Data flows one way: operators -> mutants -> campaign (workers run each mutant's
properties on cached cases) -> records (JSON) -> rendering / export.
"""

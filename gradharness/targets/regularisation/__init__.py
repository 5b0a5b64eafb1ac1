"""The target ``regularisation``: the course's regularisation exercise (deeplearning.ai course 2, week 1,
"Regularization"): L2 regularisation and dropout on its 3-layer network."""

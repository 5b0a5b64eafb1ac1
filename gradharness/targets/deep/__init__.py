"""The target ``deep``: the course's L-layer model (``L_model_forward``, ``compute_cost``, ``L_model_backward``)
and its building blocks (``linear_backward``, ``relu_backward``, ``sigmoid_backward``,
``linear_activation_backward``), each building block checked on its own."""

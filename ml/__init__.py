"""Machine-learning jobs and the model cores behind the `clv` and `recommend` CLIs."""

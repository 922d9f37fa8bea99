"""Use cases of the analytical plane: metrics, CLV fitting and scoring, stored scores, experiments."""

"""Training data preparation for ``stance`` (labelled data lives in ``training/data/``)."""

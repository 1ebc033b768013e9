//! Placeholder: the classifier's features and inference are written in the next commits.

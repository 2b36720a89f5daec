"""Text processing shared by indexing and querying: tokens, skills, German terms, negation, dates."""

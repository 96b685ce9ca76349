"""Custom Rasa NLU graph components (rule-based, on spacy.blank("en") where text is parsed)."""

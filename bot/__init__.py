"""The spine-clinic patient assistant: NLU components, channels, storage and settings."""

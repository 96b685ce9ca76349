"""Input channels: how patients reach the assistant."""

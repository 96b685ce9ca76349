"""Custom actions run by the rasa-sdk action server; the logic lives in `bot`."""

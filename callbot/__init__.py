"""callbot: a self-hosted French voicebot/callbot telephony gateway."""

__version__ = "0.1.0"

"""The local demo: the real bot, the Slack Web API emulator and a page that plays Slack."""

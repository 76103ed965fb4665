"""Slack: bolt listeners, Block Kit rendering, the Web API messenger, the emulator."""

"""Corrective actions: where they come from, who carries them out, their life to a verified close."""

"""The 100-point scorecard: the pure engine, the score book over the database, scorecard
events, the corrective actions its rules open, and the answers to `/csat customer` & co."""

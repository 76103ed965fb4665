"""The conversation every messenger shares: the words of `/csat` and `/complaint` routed to
the capabilities' use cases, and App Home."""

"""The AutoCollect client, tested at its transport against a respx router."""

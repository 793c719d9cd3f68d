"""The studio: listening, comparing and rating songs (ratings store, A/B pairs, the web app)."""

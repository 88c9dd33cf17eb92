"""One router per resource; ``app.main`` includes them in one place."""

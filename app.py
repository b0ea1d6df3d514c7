"""Entry point for gunicorn (`gunicorn app:app`) and the CLI (`flask --app app ...`)."""
from jericho import create_app

app = create_app()

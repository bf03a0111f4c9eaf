"""`python -m service`: run the service under gunicorn."""

from .server import main

main()

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pricing.settings")
application = get_wsgi_application()

# In production, refuse to start (with the command to run) rather than answer 500 on every page.
from pricing.checks import refuse_to_serve_without_static  # noqa: E402

refuse_to_serve_without_static()

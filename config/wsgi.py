import os

from django.core.wsgi import get_wsgi_application

from vinculo.core.chunked_body import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# bodies sent chunked (no Content-Length) are read, bounded, instead of being seen as empty
application = ChunkedBodyMiddleware(get_wsgi_application())

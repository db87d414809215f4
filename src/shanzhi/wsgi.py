import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.settings")
application = get_wsgi_application()

# A worker started with the wrong data key refuses to boot, saying why, instead of failing on
# every reveal afterwards.
from shanzhi.protection import key_check_at_start  # noqa: E402 - needs the apps loaded above

key_check_at_start()

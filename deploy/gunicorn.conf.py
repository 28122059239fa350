"""gunicorn settings for Helpdesk: `gunicorn -c deploy/gunicorn.conf.py helpdesk.wsgi:app`.

One gevent worker per process: Socket.IO keeps a client's session in the
process that accepted it, so scale out with more processes on more ports behind
nginx's `ip_hash` (deploy/nginx.conf), all sharing REDIS_URL, never with `-w 2`.
Each gevent worker serves many connections at once (WebSockets included).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
worker_class = "gevent"
workers = 1
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = 60  # a stuck request is killed after this; WebSockets are not affected (gevent)
graceful_timeout = 30
keepalive = 5
# nginx on the same host sets X-Forwarded-*; trust it only from there.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn 27 writes a control socket under $HOME by default; a service has no use for it.
control_socket_disable = True

"""
xbar's host of a Crossbar.io Python web service: a `wsgi` path (Crossbar.io's
RouterWebServiceWsgi imports `module`, takes `object` and serves it from a Twisted thread pool)
or a `resource` path (RouterWebServiceTwistedWeb imports `classname` and mounts
`classname(extra)`). Crossbar.io runs them inside its router process; xbar runs them here, in a
child process of the system's Python that serves HTTP on a loopback port, and forwards each
request of the path to it.

- wsgi: the standard library's wsgiref server, one thread per request, at most `maxthreads` at
  once (the rest wait in the listen queue, as Twisted's pool queues them). Twisted is not needed.
- resource: Twisted Web, with the resource at the path it has under xbar, so `request.prepath`,
  `postpath` and `URLPath` read as they do under Crossbar.io.

Only xbar talks to this server: every request carries the job's token (X-Xbar-Token, else 403)
and what the app would have seen at xbar's own socket (X-Xbar-Request, JSON: the client's address,
xbar's port, the scheme, the WSGI SCRIPT_NAME and PATH_INFO, percent-encoded); both headers are
removed before the app sees the request.

Protocol: the job as one JSON line on stdin ({kind, cbdir, pythonpath, token, ...}); events as
JSON lines on file descriptor 3:
  {"event": "missing", "module", "error"}   a module the app imports is not installed
  {"event": "failed", "error"}              the app could not be imported or created
  {"event": "listening", "port"}            serving on 127.0.0.1:port
"""
import hmac
import importlib
import json
import sys
import tempfile
import threading
import traceback
from urllib.parse import unquote

from xbar_host_io import enter_node_directory, tell

job = json.loads(sys.stdin.readline())
enter_node_directory(job)
TOKEN = job["token"].encode("ascii")


def import_module(name):
    """The module, or None after telling why not (missing dependency vs. module not on the path)."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missing = e.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            tell(event="failed", error='module "{}" not found: {} - Python search path was {}'.format(name, e, sys.path))
        else:
            tell(event="missing", module=missing.split(".")[0], error=str(e))
    except Exception:
        tell(event="failed", error='module "{}" failed to import:\n{}'.format(name, traceback.format_exc().rstrip()))
    return None


def request_info(raw):
    """The X-Xbar-Request header, or None when it is absent or not xbar's."""
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


# ---- wsgi ---------------------------------------------------------------------------------------

def dechunked(stream):
    """A chunked request body, decoded into a file (in memory up to 1 MiB, then on disk)."""
    body = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    while True:
        size = int(stream.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        while size > 0:
            data = stream.read(min(size, 65536))
            if not data:
                raise ValueError("request body ended inside a chunk")
            body.write(data)
            size -= len(data)
        stream.readline(65537)
    while stream.readline(65537) not in (b"\r\n", b"\n", b""):
        pass  # trailers
    body.seek(0)
    return body


def as_xbar_saw_it(app):
    """The environ Twisted's WSGIResource builds at xbar's socket, from the forwarded request."""

    def wrapped(environ, start_response):
        token = environ.pop("HTTP_X_XBAR_TOKEN", "").encode("latin-1")
        info = request_info(environ.pop("HTTP_X_XBAR_REQUEST", None))
        if not hmac.compare_digest(token, TOKEN) or info is None:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"only xbar forwards to this server\n"]
        environ["SCRIPT_NAME"] = unquote(info["script_name"], "latin-1")
        environ["PATH_INFO"] = unquote(info["path_info"], "latin-1")
        environ["REMOTE_ADDR"] = info["remote_addr"]
        environ.pop("REMOTE_HOST", None)
        environ["SERVER_NAME"] = info["server_name"]
        environ["SERVER_PORT"] = str(info["server_port"])
        environ["SERVER_PROTOCOL"] = info["protocol"]
        environ["wsgi.url_scheme"] = info["scheme"]
        environ["wsgi.multithread"] = True
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            environ["wsgi.input"] = dechunked(environ["wsgi.input"])
        return app(environ, start_response)

    return wrapped


def serve_wsgi():
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    mod = import_module(job["module"])
    if mod is None:
        return 3
    if job["object"] not in mod.__dict__:
        tell(event="failed", error='WSGI app object "{}" not in module "{}"'.format(job["object"], job["module"]))
        return 3
    app = as_xbar_saw_it(getattr(mod, job["object"]))
    slots = threading.BoundedSemaphore(job["maxthreads"])

    class Handler(WSGIRequestHandler):
        def log_request(self, *args):
            pass  # Crossbar.io logs no access lines by default

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 1024

        def process_request(self, request, client_address):
            # Blocks accepting while maxthreads requests run: the others wait in the listen queue.
            slots.acquire()
            try:
                super().process_request(request, client_address)
            except BaseException:
                slots.release()
                raise

        def process_request_thread(self, request, client_address):
            try:
                super().process_request_thread(request, client_address)
            finally:
                slots.release()

    server = Server(("127.0.0.1", 0), Handler)
    server.set_app(app)
    tell(event="listening", port=server.server_address[1])
    server.serve_forever()
    return 0


# ---- resource -----------------------------------------------------------------------------------

def serve_resource():
    try:
        from twisted.internet import reactor
        from twisted.internet.address import IPv4Address, IPv6Address
        from twisted.logger import formatEvent, globalLogBeginner
        from twisted.web import resource, server
    except ImportError as e:
        tell(event="missing", module=(e.name or "twisted").split(".")[0], error=str(e))
        return 3

    def observe(event):
        if event.get("log_level") is not None and event["log_level"].name in ("debug", "info"):
            return
        text = formatEvent(event)
        if event.get("log_failure") is not None:
            text += "\n" + event["log_failure"].getTraceback()
        sys.stderr.write(text.rstrip("\n") + "\n")
        sys.stderr.flush()

    globalLogBeginner.beginLoggingTo([observe], redirectStandardIO=False, discardBuffer=True)

    classname = job["classname"]
    module_name, _, klass_name = classname.rpartition(".")
    mod = import_module(module_name)
    if mod is None:
        return 3
    try:
        made = getattr(mod, klass_name)(job["extra"])
    except Exception:
        tell(event="failed", error="Failed to import class '{}' - {}".format(classname, traceback.format_exc().rstrip()))
        return 3

    # The resource at its path in xbar's tree ([] = the root), the folders above it plain resources.
    root = made
    for name in reversed(job["mount"]):
        folder = resource.Resource()
        folder.putChild(name.encode("utf-8"), root)
        root = folder

    def address(host, port):
        return (IPv6Address if ":" in host else IPv4Address)("TCP", host, port)

    class ForwardedRequest(server.Request):
        secure = False

        def process(self):
            headers = self.requestHeaders
            token = (headers.getRawHeaders(b"x-xbar-token") or [b""])[0]
            info = request_info((headers.getRawHeaders(b"x-xbar-request") or [None])[0])
            headers.removeHeader(b"x-xbar-token")
            headers.removeHeader(b"x-xbar-request")
            if not hmac.compare_digest(token, TOKEN) or info is None:
                self.setResponseCode(403)
                self.setHeader(b"content-type", b"text/plain")
                self.write(b"only xbar forwards to this server\n")
                self.finish()
                return
            self.client = address(info["remote_addr"], info["remote_port"])
            self.host = address(info["server_addr"], info["server_port"])
            self.secure = info["scheme"] == "https"
            server.Request.process(self)

        def isSecure(self):
            return self.secure

    site = server.Site(root)
    site.requestFactory = ForwardedRequest
    site.displayTracebacks = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1", backlog=1024)
    tell(event="listening", port=port.getHost().port)
    reactor.run()
    return 0


sys.exit(serve_wsgi() if job["kind"] == "wsgi" else serve_resource())

"""
xbar's host of a Crossbar.io `function` authenticator (ticket/wampcra/cryptosign `type: function`):
Crossbar.io imports `create` into its router process, calls `create(config, controller)` (it may
be a coroutine or return a Deferred) and then calls the function it returned as
`authenticate(realm, authid, details)` for every authentication, as a dynamic authenticator's
procedure. xbar runs it here, in a child process of the system's Python with Twisted.

Protocol: the job as the first line on stdin ({cbdir, pythonpath, create, config}); then one
request per line ({"id", "args"}); answers as JSON lines on file descriptor 3:
  {"event": "missing", "module", "error"} / {"event": "failed", "error"} / {"event": "ready"}
  {"id", "result"} or {"id", "error": <uri>, "args": [...]}
"""
import importlib
import json
import sys
import traceback

from xbar_host_io import enter_node_directory, tell

job = json.loads(sys.stdin.readline())
enter_node_directory(job)

try:
    import txaio

    txaio.use_twisted()
    from twisted.internet import reactor, stdio
    from twisted.internet.defer import ensureDeferred, maybeDeferred
    from twisted.protocols.basic import LineReceiver
    from twisted.logger import formatEvent, globalLogBeginner
    from autobahn.wamp.exception import ApplicationError
except ImportError as e:
    tell(event="missing", module=(e.name or "autobahn").split(".")[0], error=str(e))
    sys.exit(3)


def observe(event):
    text = formatEvent(event)
    if event.get("log_failure") is not None:
        text += "\n" + event["log_failure"].getTraceback()
    sys.stderr.write(text.rstrip("\n") + "\n")
    sys.stderr.flush()


globalLogBeginner.beginLoggingTo([observe], redirectStandardIO=False, discardBuffer=True)


def call(fn, *args):
    """A plain value, a coroutine or a Deferred, as a Deferred."""

    def run():
        result = fn(*args)
        if hasattr(result, "__await__"):
            return ensureDeferred(result)
        return result

    return maybeDeferred(run)


class Requests(LineReceiver):
    delimiter = b"\n"
    MAX_LENGTH = 1024 * 1024 + 1024

    def __init__(self, authenticate):
        self.authenticate = authenticate

    def lineReceived(self, line):
        request = json.loads(line)
        d = call(self.authenticate, *request["args"])

        def answered(result):
            tell(id=request["id"], result=result)

        def failed(failure):
            if failure.check(ApplicationError):
                e = failure.value
                tell(id=request["id"], error=e.error, args=list(e.args))
            else:
                sys.stderr.write(failure.getTraceback())
                tell(id=request["id"], error="wamp.error.runtime_error", args=[failure.getErrorMessage()])

        d.addCallbacks(answered, failed)

    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


def start():
    try:
        module_name, _, name = job["create"].rpartition(".")
        create = getattr(importlib.import_module(module_name), name)
    except Exception:
        tell(event="failed", error="could not import {}:\n{}".format(job["create"], traceback.format_exc().rstrip()))
        reactor.stop()
        return
    # The controller session Crossbar.io passes with expose_controller: xbar has none to give.
    d = call(create, job["config"], None)

    def created(authenticate):
        if not callable(authenticate):
            tell(event="failed", error="{} returned {!r}, not a function".format(job["create"], authenticate))
            reactor.stop()
            return
        stdio.StandardIO(Requests(authenticate))
        tell(event="ready")

    def not_created(failure):
        tell(event="failed", error="{}() failed: {}".format(job["create"], failure.getTraceback()))
        reactor.stop()

    d.addCallbacks(created, not_created)


reactor.callWhenRunning(start)
reactor.run()

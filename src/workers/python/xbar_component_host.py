"""
xbar's host of Python application components: one process per container worker (or per router
worker's components), started by the node as Crossbar.io starts its native workers.

It reads its job as one JSON object on stdin, puts the worker's `pythonpath` (and the node
directory) first on sys.path, imports every component's `classname` as Crossbar.io's
`_appsession_loader` does, and connects each to its router with Autobahn|Python's Twisted
WebSocket or RawSocket client factories, as `crossbar/worker/container.py` does. Restart and
shutdown follow the container's options (router components: never restarted; the process ends
once none runs).

With `expose_controller`, components get `config.controller`: `call(procedure, *args, **kwargs)`
goes to the node as a "controller" event and its answer comes back on stdin, one JSON line after
the job ({"call": n, "result": ...} or {"call": n, "error": uri, "message": ...}). With
`expose_shared`, the components of this process share `config.shared` ({"reactor": reactor}), as
in Crossbar.io's workers.

What happened goes to the node as JSON lines on file descriptor 3:
  {"event": "missing", "module": ..., "error": ...}   Twisted or Autobahn cannot be imported
  {"event": "joined", "id": ..., "session": ...}      a component joined its realm (before onJoin runs)
  {"event": "ready", "id": ...}                        its onJoin finished
  {"event": "failed", "id": ..., "error": ...}         a component could not be loaded or started
  {"event": "stopped", "id": ..., "clean": bool}       a component's connection ended
  {"event": "controller", "call": n, "procedure": ..., "args": [...], "kwargs": {...}}
Log lines go to stdout (stderr for errors), one event per line.
"""
import importlib
import json
import os
import signal
import sys
import traceback

from xbar_host_io import enter_node_directory, tell


def read_job():
    """The first line of stdin (os.read, so nothing after it is buffered away from the answers)."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        data += chunk
    line, _, rest = data.partition(b"\n")
    return json.loads(line), rest


job, early_answers = read_job()

enter_node_directory(job)


def install_reactor(name):
    if name is None:
        return
    module = {
        "select": "twisted.internet.selectreactor",
        "poll": "twisted.internet.pollreactor",
        "epoll": "twisted.internet.epollreactor",
        "kqueue": "twisted.internet.kqreactor",
        "asyncio": "twisted.internet.asyncioreactor",
    }.get(name)
    if module is None:
        raise ValueError("unknown Twisted reactor {!r} (options.reactor)".format(name))
    importlib.import_module(module).install()


try:
    install_reactor(job.get("reactor"))
    import txaio

    txaio.use_twisted()
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, UNIXClientEndpoint, wrapClientTLS
    from twisted.logger import formatEvent, globalLogBeginner, LogLevel
    from autobahn.twisted.wamp import ApplicationSession
    from autobahn.twisted.websocket import WampWebSocketClientFactory
    from autobahn.twisted.rawsocket import WampRawSocketClientFactory
    from autobahn.wamp.types import ComponentConfig
    from autobahn.wamp import serializer as wamp_serializer
    from autobahn.wamp.exception import ApplicationError
    from twisted.internet import main as twisted_main
    from twisted.internet.interfaces import IReadDescriptor
    from zope.interface import implementer
except ImportError as e:
    tell(event="missing", module=(e.name or "autobahn").split(".")[0], error=str(e))
    sys.exit(3)


def observe(event):
    text = formatEvent(event)
    failure = event.get("log_failure")
    if failure is not None:
        text += "\n" + failure.getTraceback()
    level = event.get("log_level")
    out = sys.stderr if level in (LogLevel.error, LogLevel.critical) else sys.stdout
    for line in text.rstrip("\n").split("\n"):
        out.write(line + "\n")
    out.flush()


globalLogBeginner.beginLoggingTo([observe], redirectStandardIO=False, discardBuffer=True)

SERIALIZERS = {
    "json": wamp_serializer.JsonSerializer,
    "msgpack": getattr(wamp_serializer, "MsgPackSerializer", None),
    "cbor": getattr(wamp_serializer, "CBORSerializer", None),
    "ubjson": getattr(wamp_serializer, "UBJSONSerializer", None),
}


def serializer(name):
    klass = SERIALIZERS.get(name)
    if klass is None:
        raise ValueError("serializer {!r} is not available in this Autobahn|Python".format(name))
    return klass()


def load_class(classname):
    """Crossbar.io's `_appsession_loader` for type "class"."""
    module_name, _, klass_name = classname.rpartition(".")
    if not module_name:
        raise ValueError("classname {!r} names no module (expected module.Class)".format(classname))
    klass = getattr(importlib.import_module(module_name), klass_name)
    if not (isinstance(klass, type) and issubclass(klass, ApplicationSession)):
        raise TypeError("{} is not derived from ApplicationSession".format(classname))
    return klass


def endpoint_of(config):
    timeout = config.get("timeout", 10)
    if config["type"] == "unix":
        return UNIXClientEndpoint(reactor, config["path"], timeout=timeout)
    tcp = TCP6ClientEndpoint if config.get("version") == 6 else TCP4ClientEndpoint
    plain = tcp(reactor, config["host"], config["port"], timeout=timeout)
    tls = config.get("tls")
    if tls is None:
        return plain
    from twisted.internet import ssl

    trust = None
    if tls.get("ca_certificates"):
        certs = []
        for f in tls["ca_certificates"]:
            with open(f) as pem:
                certs.append(ssl.Certificate.loadPEM(pem.read()))
        trust = ssl.trustRootFromCertificates(certs)
    client = None
    if tls.get("certificate") and tls.get("key"):
        with open(tls["certificate"]) as c, open(tls["key"]) as k:
            client = ssl.PrivateCertificate.loadPEM(c.read() + k.read())
    options = ssl.optionsForClientTLS(tls["hostname"], trustRoot=trust, clientCertificate=client)
    return wrapClientTLS(options, plain)


# Crossbar.io's WebSocket option names → Autobahn's setProtocolOptions keywords (client side).
WEBSOCKET_OPTIONS = {
    "max_frame_size": "maxFramePayloadSize",
    "max_message_size": "maxMessagePayloadSize",
    "auto_fragment_size": "autoFragmentSize",
    "fail_by_drop": "failByDrop",
    "open_handshake_timeout": "openHandshakeTimeout",
    "close_handshake_timeout": "closeHandshakeTimeout",
    "auto_ping_interval": "autoPingInterval",
    "auto_ping_timeout": "autoPingTimeout",
    "auto_ping_size": "autoPingSize",
    "enable_webstatus": None,
    "compression": None,
}


def transport_factory(config, create_session):
    if config["type"] == "websocket":
        names = config.get("serializers")
        factory = WampWebSocketClientFactory(
            create_session, url=config["url"], serializers=[serializer(n) for n in names] if names else None
        )
        options = {}
        for key, value in (config.get("options") or {}).items():
            keyword = WEBSOCKET_OPTIONS.get(key)
            if keyword is not None:
                # Crossbar.io gives timeouts and intervals in ms; Autobahn takes seconds.
                options[keyword] = value / 1000.0 if keyword.endswith(("Timeout", "Interval")) else value
        if options:
            factory.setProtocolOptions(**options)
    else:
        factory = WampRawSocketClientFactory(create_session, serializer(config.get("serializer", "json")))
    factory.noisy = False
    return factory


class Controller:
    """
    `config.controller` of a component (options.expose_controller): Crossbar.io's is the worker's
    session on the node management router; this one forwards `call` to the node, which answers
    crossbar.shutdown (see src/workers/node-controller.ts) and refuses other procedures by name.
    """

    def __init__(self):
        self._calls = {}
        self._next = 0

    def call(self, procedure, *args, **kwargs):
        kwargs.pop("options", None)
        self._next += 1
        d = Deferred()
        self._calls[self._next] = d
        tell(event="controller", call=self._next, procedure=procedure, args=list(args), kwargs=kwargs)
        return d

    def answer(self, a):
        d = self._calls.pop(a.get("call"), None)
        if d is None:
            return
        if "error" in a:
            d.errback(ApplicationError(a["error"], a.get("message")))
        else:
            d.callback(a.get("result"))

    def lost(self):
        calls, self._calls = self._calls, {}
        for d in calls.values():
            d.errback(ApplicationError("wamp.error.canceled", "the node went away before it answered"))

    def __getattr__(self, name):
        raise AttributeError(
            "xbar's config.controller (options.expose_controller) offers call() only, not {!r}: "
            "it is no WAMP session on a node management router as in Crossbar.io".format(name)
        )


@implementer(IReadDescriptor)
class ControllerAnswers:
    """Reads the node's answers to controller calls: JSON lines on stdin."""

    def __init__(self, controller, pending):
        self.controller = controller
        self.buffer = pending
        os.set_blocking(0, False)

    def fileno(self):
        return 0

    def logPrefix(self):
        return "controller"

    def doRead(self):
        try:
            data = os.read(0, 65536)
        except BlockingIOError:
            return None
        if not data:
            return twisted_main.CONNECTION_DONE
        self.buffer += data
        self.flush()
        return None

    def flush(self):
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            if line.strip():
                self.controller.answer(json.loads(line))

    def connectionLost(self, reason):
        self.controller.lost()


class Host:
    def __init__(self, job):
        self.kind = job["kind"]  # "container" or "router"
        self.restart = job.get("restart", "restart-never")
        self.shutdown_mode = job.get("shutdown", "shutdown-manual")
        self.components = {c["id"]: c for c in job["components"]}
        self.sessions = {}
        self.running = set()
        self.failed = False
        self.stopping = False
        self.controller = Controller() if job.get("expose_controller") else None
        # Crossbar.io's worker `components_shared`.
        self.shared = {"reactor": reactor} if job.get("expose_shared") else None

    def start(self):
        for component_id in self.components:
            self.start_component(component_id)

    def start_component(self, component_id):
        c = self.components[component_id]
        try:
            klass = load_class(c["classname"])
        except Exception:
            self.fail(component_id, "could not import {}:\n{}".format(c["classname"], traceback.format_exc().rstrip()))
            return
        config = ComponentConfig(realm=c["realm"], extra=c["extra"], controller=self.controller, shared=self.shared)
        joined = {"joined": False}

        def create_session():
            try:
                session = klass(config)
            except Exception:
                self.fail(component_id, "{}({}) failed:\n{}".format(c["classname"], "config", traceback.format_exc().rstrip()))
                raise

            def panic(fail, msg):
                # As Crossbar.io: an exception out of user code in an on* handler ends the component.
                session.log.error("Fatal error in component: {msg} - {log_failure.value}", msg=msg, log_failure=fail)
                session.disconnect()

            session._swallow_error = panic

            def join(s, details):
                joined["joined"] = True
                tell(event="joined", id=component_id, session=details.session, authid=details.authid, authrole=details.authrole)

            def ready(s):
                tell(event="ready", id=component_id)

            def left(s, details):
                if not joined["joined"]:
                    joined["reason"] = "{}: {}".format(details.reason, details.message or "")

            def disconnected(s, was_clean):
                self.sessions.pop(component_id, None)
                self.closed(component_id, was_clean and joined["joined"], joined)

            session.on("join", join)
            session.on("ready", ready)
            session.on("leave", left)
            session.on("disconnect", disconnected)
            self.sessions[component_id] = session
            return session

        try:
            factory = transport_factory(c["transport"], create_session)
            endpoint = endpoint_of(c["transport"]["endpoint"])
        except Exception as e:
            self.fail(component_id, "transport: {}".format(e))
            return
        self.running.add(component_id)
        d = endpoint.connect(factory)

        def not_connected(failure):
            self.running.discard(component_id)
            self.fail(component_id, "could not connect to {}: {}".format(c["transport"].get("url") or c["transport"]["endpoint"], failure.getErrorMessage()))

        d.addErrback(not_connected)

    def fail(self, component_id, message):
        tell(event="failed", id=component_id, error=message)
        sys.stderr.write("component {}: {}\n".format(component_id, message))
        sys.stderr.flush()
        self.failed = True
        self.after_stop(component_id, clean=False, restartable=False)

    def closed(self, component_id, clean, joined):
        self.running.discard(component_id)
        if not joined["joined"]:
            # It never got to run: a start failure (as Crossbar.io fails start_component).
            self.fail(component_id, "session ended before it joined ({})".format(joined.get("reason", "connection lost")))
            return
        tell(event="stopped", id=component_id, clean=clean)
        if not clean:
            self.failed = True
        self.after_stop(component_id, clean, restartable=True)

    def after_stop(self, component_id, clean, restartable):
        """Crossbar.io's container `_component_closed`: shut the process down or restart the component."""
        if self.stopping:
            return
        mode = self.shutdown_mode
        if self.kind == "router":
            if not self.running:
                self.stop()
            return
        if (not clean and mode == "shutdown-on-any-component-failed") or mode == "shutdown-on-any-component-stopped":
            self.stop()
            return
        if restartable and (self.restart == "restart-always" or (self.restart == "restart-on-failed" and not clean)):
            reactor.callLater(0, self.start_component, component_id)
            return
        if not self.running and mode == "shutdown-on-last-component-stopped":
            self.stop()

    def stop(self):
        if self.stopping:
            return
        self.stopping = True
        if reactor.running:
            reactor.stop()

    def leave_all(self):
        """Before the reactor stops (SIGTERM): every session says GOODBYE, bounded to 2 s."""
        self.stopping = True
        pending = []
        for session in list(self.sessions.values()):
            if session.is_attached():
                done = Deferred()

                def gone(*args, _done=done, **kwargs):
                    if not _done.called:
                        _done.callback(None)

                session.on("disconnect", gone)
                try:
                    session.leave("wamp.close.system_shutdown")
                    pending.append(done)
                except Exception:
                    pass
        if not pending:
            return None
        from twisted.internet.defer import DeferredList

        all_left = DeferredList(pending)
        timer = reactor.callLater(2, lambda: all_left.called or all_left.callback(None))
        all_left.addBoth(lambda _: timer.active() and timer.cancel())
        return all_left


host = Host(job)
if host.controller is not None:
    answers = ControllerAnswers(host.controller, early_answers)
    answers.flush()
    reactor.addReader(answers)
reactor.addSystemEventTrigger("before", "shutdown", host.leave_all)
reactor.callWhenRunning(host.start)
signal.signal(signal.SIGTERM, lambda *a: reactor.callFromThread(reactor.stop))
reactor.run(installSignalHandlers=False)
sys.exit(1 if host.failed else 0)

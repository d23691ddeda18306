/**
 * Debian's Autobahn|Python (python3-autobahn) as a WAMP client of the auth tests, run as a
 * subprocess of /usr/bin/python3.
 */
import { execFile } from 'node:child_process';

/** Debian's interpreter: the `python3` on PATH may be another one without python3-autobahn. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/**
 * A WAMP client in Autobahn|Python: joins with one auth method, leaves, and prints one JSON line:
 * {"joined": {...}} or {"aborted": {...}}, plus the CHALLENGE extra it saw. WebSocket URLs run on
 * asyncio; RawSocket URLs (rs://, rss://) on Twisted, because Debian's autobahn 22.7.1 asyncio
 * RawSocket protocol lacks the `transport_details` property that joining needs.
 */
const PYTHON_CLIENT = String.raw`
import json, sys
cfg = json.loads(sys.argv[1])
twisted_mode = cfg['url'].startswith('rs')
if twisted_mode:
    from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner
else:
    import asyncio, ssl
    from autobahn.asyncio.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp import auth as wauth
from autobahn.wamp.auth import AuthCryptoSign

result = {}

class Client(ApplicationSession):
    def onConnect(self):
        method = cfg['method']
        extra = cfg.get('authextra')
        if method == 'cryptosign':
            self.cs = AuthCryptoSign(privkey=cfg['privkey'], authextra=dict(extra or {}))
            extra = self.cs.authextra
        self.join(cfg['realm'], authmethods=[method], authid=cfg.get('authid'), authextra=extra)

    def onChallenge(self, challenge):
        method = cfg['method']
        result['challenge'] = challenge.extra
        if method == 'wampcra':
            key = cfg['secret']
            if 'salt' in challenge.extra:
                key = wauth.derive_key(cfg['secret'], challenge.extra['salt'], challenge.extra['iterations'], challenge.extra['keylen'])
            return wauth.compute_wcs(key, challenge.extra['challenge']).decode('ascii')
        if method == 'ticket':
            return cfg['ticket']
        if method == 'cryptosign':
            return self.cs.on_challenge(self, challenge)
        raise Exception('unexpected challenge ' + method)

    def onJoin(self, details):
        result['joined'] = {k: getattr(details, k) for k in ('realm', 'authid', 'authrole', 'authmethod', 'authprovider')}
        self.leave()

    def onLeave(self, details):
        if 'joined' not in result:
            result['aborted'] = {'reason': details.reason, 'message': details.message}
        self.disconnect()

    def onDisconnect(self):
        if twisted_mode:
            from twisted.internet import reactor
            if reactor.running:
                reactor.stop()
        else:
            asyncio.get_event_loop().stop()

context = None
if cfg.get('cafile'):
    if twisted_mode:
        from twisted.internet.ssl import Certificate, PrivateCertificate, optionsForClientTLS
        # (tls_max applies to asyncio only; limit a RawSocket endpoint with the router's max_version.)
        client_cert = None
        if cfg.get('certfile'):
            client_cert = PrivateCertificate.loadPEM(open(cfg['certfile']).read() + open(cfg['keyfile']).read())
        context = optionsForClientTLS('127.0.0.1', trustRoot=Certificate.loadPEM(open(cfg['cafile']).read()),
                                      clientCertificate=client_cert)
    else:
        context = ssl.create_default_context(cafile=cfg['cafile'])
        if cfg.get('tls_max') == '1.2':
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        if cfg.get('certfile'):
            context.load_cert_chain(cfg['certfile'], cfg['keyfile'])

runner = ApplicationRunner(cfg['url'], cfg['realm'], ssl=context)
try:
    runner.run(Client, log_level='critical') if not twisted_mode else runner.run(Client, log_level='critical', auto_reconnect=False)
except Exception as e:
    result['error'] = repr(e)
# Twisted's logging takes over sys.stdout; the original stream is still ours.
sys.__stdout__.write(json.dumps(result) + '\n')
sys.__stdout__.flush()
`;

export interface PythonResult {
  joined?: { realm: string; authid: string; authrole: string; authmethod: string; authprovider: string };
  aborted?: { reason: string; message: string | null };
  challenge?: Record<string, unknown>;
  call?: unknown;
  error?: string;
}

export function runPython(cfg: Record<string, unknown>, timeoutMs = 15_000): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    execFile(DEBIAN_PYTHON, ['-c', PYTHON_CLIENT, JSON.stringify(cfg)], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as PythonResult);
      } catch {
        reject(new Error(`python client failed: ${err?.message ?? ''}\n${stderr}\n${stdout}`));
      }
    });
  });
}


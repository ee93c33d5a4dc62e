"""A fault-injecting HTTP/1.1 reverse proxy in front of the test cloud's Glance.

The integration target ``faults`` points the modules at this proxy (clouds.yaml
``image_endpoint_override``) and reads the results back from Glance directly.
Everything is forwarded unchanged (Host included, so that Glance's version
document links back to the proxy) unless a fault rule fires. Paths under
``/legacy`` go to the legacy Glance (``--legacy-upstream``, Image API v1), without
that prefix.

Control path ``/__faults__`` on the proxy itself:

* ``PUT`` a JSON document ``{"seed": 7, "rules": [RULE, ...]}`` (or a bare list of
  rules): replaces the rules and resets the counters;
* ``GET``: ``{"requests": n, "injected": {kind: n}, "total": n, "log": [[method, path, kind], ...]}``;
* ``DELETE``: removes the rules and resets the counters.

A rule::

    {"methods": ["POST"] or "any", "path": "<regex searched in the path, query excluded>",
     "kind": "<kind>" or ["<kind>", ...], "rate": 0..1, "count": <max faults of this rule>,
     "delay": <seconds, slow only, at most 3>,
     "bytes": <bytes forwarded, cut-body only>, "fraction": <share of the body forwarded, cut-body only>}

Kinds:

* ``error-before``: answer 503 without forwarding (the request body is read first);
* ``error-after``: forward, let the server answer, then answer 504 instead;
* ``reset-after``: forward, read the server's answer, then reset the client connection;
* ``slow``: wait ``delay`` seconds, then forward;
* ``cut-body``: forward the headers and part of the body, then reset both connections;
* ``silent``: read the request, then never answer (until the client gives up, or
  ``SILENCE_LIMIT``): a black hole;
* ``server-error``: read the body, then answer Glance's generic 500 page without forwarding;
* ``loop-next``: forward, then make the JSON answer's ``next`` link point at this very
  request (v2 paging that never ends);
* ``ignore-marker``: forward without the ``marker`` query parameter (v1 paging that
  sends the same page again).

Rules are tried in order; each decides with its own ``random.Random`` seeded from the
seed and its position, so that one sequence of requests gets the same faults every run.
Standard library only.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

CONTROL_PATH = '/__faults__'
KINDS = ('error-before', 'error-after', 'reset-after', 'slow', 'cut-body', 'silent', 'server-error', 'loop-next',
         'ignore-marker')
LEGACY_PREFIX = '/legacy'
MAX_DELAY = 3.0
SILENCE_LIMIT = 600
# webob's page for an unexpected exception, as Glance sends it.
GENERIC_500_PAGE = (b'<html>\n <head>\n  <title>500 Internal Server Error</title>\n </head>\n <body>\n'
                    b'  <h1>500 Internal Server Error</h1>\n  The server has either erred or is incapable of '
                    b'performing the requested operation.<br /><br />\n\n\n\n </body>\n</html>')
# Answers rewritten by loop-next are read whole: at most this long.
REWRITE_LIMIT = 16 * 1024 * 1024
CHUNK = 64 * 1024
LOG_LIMIT = 1000
CONTROL_BODY_LIMIT = 1024 * 1024
# Large uploads pass through gunicorn at about 100 MiB/s; idle keep-alive clients are dropped.
UPSTREAM_TIMEOUT = 300
CLIENT_IDLE_TIMEOUT = 120
# Per-connection headers, and the framing headers the proxy sets itself.
NOT_FORWARDED = frozenset((
    'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
    'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade', 'expect', 'content-length',
))


def log(message):
    sys.stderr.write('%s %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'), message))
    sys.stderr.flush()


class Rule:
    def __init__(self, spec, seed, index):
        if not isinstance(spec, dict):
            raise ValueError('rule %d is not an object' % index)
        unknown = set(spec) - {'methods', 'path', 'kind', 'rate', 'count', 'delay', 'bytes', 'fraction'}
        if unknown:
            raise ValueError('rule %d has unknown keys: %s' % (index, ', '.join(sorted(unknown))))
        methods = spec.get('methods', 'any')
        if methods in ('any', '*', None):
            self.methods = None
        elif isinstance(methods, list) and all(isinstance(m, str) for m in methods):
            self.methods = frozenset(m.upper() for m in methods)
        else:
            raise ValueError('rule %d: methods must be a list of names or "any"' % index)
        try:
            self.path = re.compile(str(spec.get('path', '')))
        except re.error as exc:
            raise ValueError('rule %d: bad path regex: %s' % (index, exc)) from exc
        kinds = spec.get('kind')
        self.kinds = [kinds] if isinstance(kinds, str) else kinds
        if not isinstance(self.kinds, list) or not self.kinds or any(k not in KINDS for k in self.kinds):
            raise ValueError('rule %d: kind must be one of %s, or a list of them' % (index, ', '.join(KINDS)))
        self.rate = float(spec.get('rate', 1.0))
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError('rule %d: rate must be between 0 and 1' % index)
        self.count = spec.get('count', 1)
        if not isinstance(self.count, int) or self.count < 0:
            raise ValueError('rule %d: count must be a non-negative integer' % index)
        self.delay = float(spec.get('delay', 1.0))
        if not 0.0 <= self.delay <= MAX_DELAY:
            raise ValueError('rule %d: delay must be between 0 and %s seconds' % (index, MAX_DELAY))
        self.cut_bytes = spec.get('bytes')
        if self.cut_bytes is not None and (not isinstance(self.cut_bytes, int) or self.cut_bytes < 0):
            raise ValueError('rule %d: bytes must be a non-negative integer' % index)
        self.cut_fraction = float(spec.get('fraction', 0.5))
        if not 0.0 <= self.cut_fraction < 1.0:
            raise ValueError('rule %d: fraction must be at least 0 and below 1' % index)
        self.random = random.Random('%s/%d' % (seed, index))
        self.injected = 0

    def decide(self, method, path):
        """The kind of fault for this request, or None. Called under the state lock."""
        if self.injected >= self.count:
            return None
        if self.methods is not None and method not in self.methods:
            return None
        if not self.path.search(path):
            return None
        if self.random.random() >= self.rate:
            return None
        self.injected += 1
        return self.random.choice(self.kinds)

    def cut_length(self, body_length):
        """How many body bytes a cut-body fault forwards."""
        if self.cut_bytes is not None:
            return self.cut_bytes if body_length is None else min(self.cut_bytes, body_length)
        if body_length is None:
            return CHUNK
        return int(body_length * self.cut_fraction)


class Faults:
    """Rules and counters, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.seed = None
        self._reset()

    def _reset(self):
        self.requests = 0
        self.injected = {}
        self.log = []

    def replace(self, document):
        if isinstance(document, list):
            seed, specs = 0, document
        elif isinstance(document, dict):
            unknown = set(document) - {'seed', 'rules'}
            if unknown:
                raise ValueError('unknown keys: %s' % ', '.join(sorted(unknown)))
            seed, specs = document.get('seed', 0), document.get('rules', [])
        else:
            raise ValueError('expected {"seed": ..., "rules": [...]} or a list of rules')
        if not isinstance(specs, list):
            raise ValueError('rules must be a list')
        rules = [Rule(spec, seed, index) for index, spec in enumerate(specs)]
        with self.lock:
            self.rules, self.seed = rules, seed
            self._reset()

    def clear(self):
        with self.lock:
            self.rules, self.seed = [], None
            self._reset()

    def decide(self, method, path):
        """(kind, rule) of the fault for this request, or (None, None); counts the request."""
        with self.lock:
            self.requests += 1
            for rule in self.rules:
                kind = rule.decide(method, path)
                if kind:
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    if len(self.log) < LOG_LIMIT:
                        self.log.append([method, path, kind])
                    return kind, rule
        return None, None

    def report(self):
        with self.lock:
            return {
                'requests': self.requests,
                'injected': dict(self.injected),
                'total': sum(self.injected.values()),
                'log': [list(entry) for entry in self.log],
                'seed': self.seed,
                'rules': [{'kinds': rule.kinds, 'injected': rule.injected, 'count': rule.count}
                          for rule in self.rules],
            }


class UpstreamFailed(Exception):
    """The real server could not be reached or broke off."""


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'fault-proxy'
    timeout = CLIENT_IDLE_TIMEOUT

    def do_request(self):
        path = urlsplit(self.path).path
        if path == CONTROL_PATH:
            self.control()
            return
        started = time.monotonic()
        self.responded = False
        kind, rule = self.server.faults.decide(self.command, path)
        status = '-'
        try:
            status = self.proxy(kind, rule)
        except UpstreamFailed as exc:
            status = 502
            log('%s %s: upstream failed: %s' % (self.command, self.path, exc))
            if self.responded:
                self.close_connection = True
            else:
                self.answer(502, 'Bad Gateway', 'The image service could not be reached: %s' % exc)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # The client went away or sent something unreadable: nothing to answer.
            status = 'client error: %s' % exc
            self.close_connection = True
        log('%s %s %s %s %.3fs' % (self.command, self.path, status, kind or '-', time.monotonic() - started))

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_request

    # -- faults -----------------------------------------------------------
    def proxy(self, kind, rule):
        if kind == 'error-before':
            for _chunk in self.body_chunks():
                pass
            self.answer(503, 'Service Unavailable',
                        'The server is currently unavailable. Please try again at a later time.', kind)
            return 503
        if kind in ('silent', 'server-error'):
            for _chunk in self.body_chunks():
                pass
            if kind == 'silent':
                self.stay_silent()
                return 'no answer'
            self.answer_page(500, 'Internal Server Error', GENERIC_500_PAGE, kind)
            return 500
        if kind == 'slow':
            time.sleep(rule.delay)
        upstream = self.open_upstream(drop_marker=kind == 'ignore-marker')
        try:
            if kind == 'cut-body':
                self.send_body(upstream, limit=rule.cut_length(self.body_length()))
                abort(upstream.sock)
                self.abort()
                return 'cut'
            self.send_body(upstream)
            response = self.read_response(upstream)
            if kind in ('error-after', 'reset-after'):
                try:
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    raise UpstreamFailed(exc) from exc
                if kind == 'reset-after':
                    self.abort()
                    return 'reset (server said %s)' % response.status
                self.answer(504, 'Gateway Timeout',
                            'The gateway did not receive a timely response from the upstream server.', kind)
                return '504 (server said %s)' % response.status
            if kind == 'loop-next':
                self.relay_looping(response)
            else:
                self.relay(response)
            return response.status
        finally:
            upstream.close()

    # -- request side ---------------------------------------------------
    def body_length(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            return None
        return int(self.headers.get('Content-Length') or 0)

    def body_chunks(self):
        """The request body in pieces of at most CHUNK bytes (Content-Length or chunked)."""
        length = self.body_length()
        if length is None:
            yield from self.chunked_body()
            return
        yield from self.exactly(length, 'the body')

    def exactly(self, size, what):
        """``size`` bytes of the request, in pieces of at most CHUNK bytes."""
        remaining = size
        while remaining > 0:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                raise ConnectionError('the client closed the connection in the middle of %s' % what)
            remaining -= len(data)
            yield data

    def chunked_body(self):
        # Each pass reads one chunk; a closed or silent client ends it (EOF or the socket timeout).
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b'\n'):
                raise ConnectionError('bad chunk header')
            size = int(line.split(b';', 1)[0].strip(), 16)
            if size == 0:
                for _trailer in range(100):
                    if self.rfile.readline(65536) in (b'\r\n', b'\n', b''):
                        return
                raise ValueError('too many trailer lines')
            yield from self.exactly(size, 'a chunk')
            self.rfile.readline(16)

    def open_upstream(self, drop_marker=False):
        (host, port), path = self.server.route(self.path)
        if drop_marker:
            parts = urlsplit(path)
            query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != 'marker']
            path = parts.path + ('?' + urlencode(query) if query else '')
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT)
        try:
            connection.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in NOT_FORWARDED:
                    connection.putheader(name, value)
            length = self.body_length()
            if length is None:
                connection.putheader('Transfer-Encoding', 'chunked')
            elif 'Content-Length' in self.headers:
                connection.putheader('Content-Length', str(length))
            connection.endheaders()
        except OSError as exc:
            connection.close()
            raise UpstreamFailed(exc) from exc
        return connection

    def send_body(self, upstream, limit=None):
        """Stream the client's body to the server (only ``limit`` bytes of it when given)."""
        chunked = self.body_length() is None
        sent = 0
        broken = None
        for data in self.body_chunks():
            if limit is not None:
                data = data[:limit - sent]
            if data and broken is None:
                try:
                    upstream.send(b'%x\r\n%s\r\n' % (len(data), data) if chunked else data)
                except OSError as exc:
                    # The server answered early and stopped reading: keep reading the client's
                    # body so that the connection stays usable, then relay that answer.
                    broken = exc
            sent += len(data)
            if limit is not None and sent >= limit:
                return
        if chunked and broken is None and limit is None:
            try:
                upstream.send(b'0\r\n\r\n')
            except OSError as exc:
                broken = exc

    def read_response(self, upstream):
        try:
            return upstream.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise UpstreamFailed(exc) from exc

    # -- answer side ----------------------------------------------------
    def relay(self, response):
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in NOT_FORWARDED:
                self.send_header(name, value)
        length = response.getheader('Content-Length')
        if self.command == 'HEAD' or response.status in (204, 304) or response.status < 200:
            if length is not None:
                self.send_header('Content-Length', length)
            self.end_headers()
            return
        if response.chunked:
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for data in self.response_chunks(response):
                self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            self.wfile.write(b'0\r\n\r\n')
        elif length is not None:
            self.send_header('Content-Length', length)
            self.end_headers()
            expected = int(length)
            for data in self.response_chunks(response):
                expected -= len(data)
                self.wfile.write(data)
            if expected:
                self.close_connection = True
        else:
            self.send_header('Connection', 'close')
            self.end_headers()
            for data in self.response_chunks(response):
                self.wfile.write(data)
            self.close_connection = True

    def relay_looping(self, response):
        """Relay a JSON answer whose ``next`` link leads back to this request."""
        body = response.read(REWRITE_LIMIT)
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            document['next'] = self.path
            body = json.dumps(document).encode()
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in NOT_FORWARDED:
                self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def stay_silent(self):
        """Keep the connection open without a word until the client closes it."""
        self.close_connection = True
        self.connection.settimeout(1.0)
        deadline = time.monotonic() + SILENCE_LIMIT
        while time.monotonic() < deadline:
            try:
                if not self.connection.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def answer_page(self, status, reason, page, kind):
        self.send_response_only(status, reason)
        self.send_header('Content-Type', 'text/html; charset=UTF-8')
        self.send_header('Content-Length', str(len(page)))
        self.send_header('X-Fault-Injected', kind)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(page)

    def response_chunks(self, response):
        # Ends at the end of the body; a silent server ends it with the upstream timeout.
        while True:
            try:
                data = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                log('%s %s: upstream broke off the answer: %s' % (self.command, self.path, exc))
                self.close_connection = True
                return
            if not data:
                return
            yield data

    def answer(self, status, reason, message, kind=None):
        body = json.dumps({'message': message, 'code': '%d %s' % (status, reason), 'title': reason}).encode()
        self.send_response_only(status, reason)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        if kind:
            self.send_header('X-Fault-Injected', kind)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def abort(self):
        """Close the client connection with a reset instead of an orderly close."""
        self.close_connection = True
        self.wfile.flush()
        self.rfile.close()
        abort(self.connection)

    # -- control --------------------------------------------------------
    def control(self):
        faults = self.server.faults
        if self.command == 'GET':
            self.answer_document(200, faults.report())
        elif self.command == 'DELETE':
            faults.clear()
            self.answer_document(200, faults.report())
        elif self.command == 'PUT':
            length = self.body_length()
            if length is None or length > CONTROL_BODY_LIMIT:
                self.close_connection = True
                self.answer_document(400, {'error': 'send the rules as JSON with a Content-Length up to 1 MiB'})
                return
            body = b''.join(self.body_chunks())
            try:
                faults.replace(json.loads(body or b'null'))
            except ValueError as exc:
                self.answer_document(400, {'error': str(exc)})
                return
            log('rules set: %s' % body.decode('utf-8', 'replace'))
            self.answer_document(200, faults.report())
        else:
            self.close_connection = True
            self.answer_document(405, {'error': 'use GET, PUT or DELETE'})

    def answer_document(self, status, document):
        body = json.dumps(document).encode()
        self.send_response_only(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_response_only(self, code, message=None):
        self.responded = True
        super().send_response_only(code, message)

    def log_message(self, format, *args):
        log('%s %s' % (self.address_string(), format % args))


def abort(sock):
    """Reset a TCP connection (SO_LINGER 0 makes close send RST rather than FIN)."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    sock.close()


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, upstream, legacy_upstream):
        super().__init__(address, ProxyHandler)
        self.upstream = upstream
        self.legacy_upstream = legacy_upstream
        self.faults = Faults()

    def route(self, path):
        """((host, port), path) of the server a request path goes to."""
        rest = path[len(LEGACY_PREFIX):]
        if path.startswith(LEGACY_PREFIX) and rest[:1] in ('', '/', '?'):
            return self.legacy_upstream, rest if rest.startswith('/') else '/' + rest
        return self.upstream, path


def parse_upstream(url):
    parts = urlsplit(url)
    if parts.scheme != 'http' or not parts.hostname or parts.path not in ('', '/'):
        raise argparse.ArgumentTypeError('expected http://host:port, got %r' % url)
    return parts.hostname, parts.port or 80


def main(argv=None):
    parser = argparse.ArgumentParser(description='Fault-injecting reverse proxy for the integration tests.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=9299)
    parser.add_argument('--upstream', type=parse_upstream, default='http://127.0.0.1:9292',
                        help='the real server (default: %(default)s)')
    parser.add_argument('--legacy-upstream', type=parse_upstream, default='http://127.0.0.1:9393',
                        help='the legacy server, reached under %s (default: %%(default)s)' % LEGACY_PREFIX)
    parser.add_argument('--pidfile', help='written once the port is bound, removed on exit')
    parser.add_argument('--lifetime', type=float, default=4 * 3600,
                        help='stop after this many seconds even without SIGTERM (default: %(default)s)')
    args = parser.parse_args(argv)

    try:
        server = ProxyServer((args.host, args.port), args.upstream, args.legacy_upstream)
    except OSError as exc:
        sys.exit('fault proxy: cannot listen on %s:%d: %s' % (args.host, args.port, exc.strerror or exc))
    if args.pidfile:
        temporary = '%s.%d' % (args.pidfile, os.getpid())
        with open(temporary, 'w') as handle:
            handle.write('%d\n' % os.getpid())
        os.replace(temporary, args.pidfile)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True)
    serving.start()
    log('listening on http://%s:%d, forwarding to http://%s:%d, %s to http://%s:%d'
        % ((args.host, args.port) + args.upstream + (LEGACY_PREFIX,) + args.legacy_upstream))
    deadline = time.monotonic() + args.lifetime
    while not stop.wait(0.5) and serving.is_alive() and time.monotonic() < deadline:
        pass
    server.shutdown()
    server.server_close()
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except FileNotFoundError:
            pass
    log('stopped')


if __name__ == '__main__':
    main()

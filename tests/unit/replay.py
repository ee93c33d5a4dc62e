"""Replay recorded Glance answers to the image service drivers, without any server.

The fixtures in tests/unit/fixtures/recorded/ hold real exchanges with the test
cloud's servers (tests/unit/fixtures/record.py writes them). ``RecordedSession``
stands in for the keystoneauth session that ``transport.Http`` calls::

    session = RecordedSession('glance33-v2', keys=['get', 'patch'])
    driver = ImageDriverV2(Http(session, session.root))
    driver.get(session.ids['image'])
    assert session.sent[0].method == 'GET'

A request is answered by the recorded exchange with the same method, path and
query (query pairs in any order). When several match (the same member added
twice: 200, then 409), they answer in the order of ``keys`` (else recorded
order) and the last one repeats. ``keys`` limits the exchanges that may answer,
so a test picks the answers of one situation (``keys=['member_add_again']`` for
the 409 alone).

``lost`` names exchanges whose answer never reaches the client: the server
handled the request, then the connection closed (the first time only). That is
how a repeated request meets the traces of its own first attempt.

``extra`` adds exchanges made with ``reused``: a recorded answer given to a
request of the same kind that the recording did not make (Glance answers a tag
PUT over the tag limit with the 413 it gave the recorded tag PATCH).
"""

from __future__ import annotations

import copy
import json
import os
from urllib.parse import parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'recorded')
NAMES = ('glance33-v2', 'pike-v1', 'pike-v2')

_loaded = {}


def load(name):
    """The recorded document ``name`` (e.g. ``'pike-v1'``): server, root, ids and exchanges."""
    if name not in _loaded:
        with open(os.path.join(FIXTURES, '%s.json' % name), encoding='utf-8') as stream:
            _loaded[name] = json.load(stream)
    return _loaded[name]


def reused(fixture, key, as_key, method, path, query=()):
    """The recorded answer ``key`` of ``fixture`` as an exchange answering ``method path?query`` (for ``extra``)."""
    document = load(fixture) if isinstance(fixture, str) else fixture
    source = next((exchange for exchange in document['exchanges'] if exchange['key'] == key), None)
    if source is None:
        raise KeyError('no recorded exchange %s in %s' % (key, document['server']))
    return {
        'key': as_key,
        'as': source['as'],
        'reused': key,
        'request': {'method': method, 'path': path, 'query': [list(pair) for pair in query], 'headers': {},
                    'body': None},
        'response': copy.deepcopy(source['response']),
    }


def lost_answer(url):
    """keystoneauth's exception for a connection closed before the answer came, with its real cause."""
    from keystoneauth1 import exceptions  # pylint: disable=import-outside-toplevel
    try:
        try:
            raise ConnectionResetError(104, 'Connection reset by peer')
        except ConnectionResetError as cause:
            raise exceptions.ConnectFailure("Unable to establish connection to %s: ('Connection aborted.', "
                                            "ConnectionResetError(104, 'Connection reset by peer'))" % url) from cause
    except exceptions.ConnectFailure as exc:
        return exc


def _pairs(query):
    """Query parameters as a sorted list of (name, value) string pairs."""
    if query is None:
        return []
    items = query.items() if isinstance(query, dict) else query
    pairs = []
    for key, value in items:
        for one in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((str(key), str(one)))
    return sorted(pairs)


def _body_bytes(data):
    """What a session would send for ``data``: bytes, text, a file or an iterable of chunks, read once."""
    if data is None or isinstance(data, (bytes, str, dict)):
        return data
    if hasattr(data, 'read'):
        return data.read()
    return b''.join(chunk.encode() if isinstance(chunk, str) else chunk for chunk in data)


class RecordedResponse:
    """The parts of a requests / keystoneauth response the drivers read."""

    def __init__(self, exchange, url):
        answer = exchange['response']
        self.key = exchange['key']
        self.url = url
        self.status_code = answer['status']
        self.headers = CaseInsensitiveDict(answer['headers'])
        self.text = answer['body']
        self.content = self.text.encode('utf-8')
        self.ok = self.status_code < 400
        self.closed = False

    def json(self, **kwargs):
        return json.loads(self.text, **kwargs)

    def iter_content(self, chunk_size=1, decode_unicode=False):
        size = chunk_size or len(self.content) or 1
        for start in range(0, len(self.content), size):
            chunk = self.content[start:start + size]
            yield chunk.decode('utf-8') if decode_unicode else chunk

    def close(self):
        self.closed = True

    def __repr__(self):
        return '<RecordedResponse %s [%s]>' % (self.key, self.status_code)


class SentRequest:
    """One request the session received, for assertions."""

    def __init__(self, method, url, path, params, headers, json_body, data, kwargs, key, lost=False):
        self.method = method
        self.url = url
        self.path = path
        self.params = params
        self.headers = CaseInsensitiveDict(headers or {})
        self.json = json_body
        self.data = data
        self.kwargs = kwargs
        self.key = key
        self.lost = lost

    def __repr__(self):
        query = '?%s' % self.params if self.params else ''
        return '<SentRequest %s %s%s -> %s%s>' % (self.method, self.path, query, self.key,
                                                  ' (answer lost)' if self.lost else '')


class RecordedSession:
    """A stand-in for keystoneauth's Session that answers from one recorded fixture."""

    def __init__(self, fixture, keys=None, root=None, lost=(), extra=()):
        self.document = load(fixture) if isinstance(fixture, str) else fixture
        self.root = (root or self.document['root']).rstrip('/')
        exchanges = self.document['exchanges']
        if keys is not None:
            by_key = {exchange['key']: exchange for exchange in exchanges}
            unknown = [key for key in keys if key not in by_key]
            if unknown:
                raise KeyError('no recorded exchange %s in %s' % (', '.join(unknown), self.document['server']))
            exchanges = [by_key[key] for key in keys]
        self.extra = list(extra)
        self.exchanges = list(exchanges) + self.extra
        unknown = sorted(set(lost) - {exchange['key'] for exchange in self.exchanges})
        if unknown:
            raise KeyError('lost answers of exchanges that cannot answer: %s' % ', '.join(unknown))
        self.sent = []
        self._answered = set()
        self._to_lose = set(lost)

    @property
    def ids(self):
        """Roles ('image', 'member project', 'name', ...) to the IDs and names of the recording."""
        return self.document['ids']

    def exchange(self, key):
        """The recorded exchange ``key`` (request and response, as stored)."""
        for exchange in self.document['exchanges'] + self.extra:
            if exchange['key'] == key:
                return exchange
        raise KeyError(key)

    def _path(self, url):
        split = urlsplit(url)
        root = urlsplit(self.root)
        if split.scheme and (split.scheme, split.netloc) != (root.scheme, root.netloc):
            raise AssertionError('request to %s, outside the recorded endpoint %s' % (url, self.root))
        path = split.path
        if root.path and path.startswith(root.path):
            path = path[len(root.path):]
        return path or '/', parse_qsl(split.query, keep_blank_values=True)

    def _match(self, method, path, query):
        candidates = [exchange for exchange in self.exchanges
                      if exchange['request']['method'] == method and exchange['request']['path'] == path
                      and _pairs(exchange['request']['query']) == query]
        if not candidates:
            same_path = ['%s %s?%s' % (e['key'], e['request']['method'], _pairs(e['request']['query']))
                         for e in self.exchanges if e['request']['path'] == path]
            raise AssertionError('no recorded answer for %s %s%s in %s; recorded for this path: %s'
                                 % (method, path, '?%s' % query if query else '', self.document['server'],
                                    ', '.join(same_path) or 'none'))
        for exchange in candidates:
            if id(exchange) not in self._answered:
                self._answered.add(id(exchange))
                return exchange
        return candidates[-1]

    def request(self, url, method, headers=None, params=None, json=None, data=None, raise_exc=True,
                **kwargs):  # pylint: disable=redefined-outer-name
        method = method.upper()
        path, url_query = self._path(url)
        query = sorted(url_query + _pairs(params))
        data = _body_bytes(data)
        exchange = self._match(method, path, query)
        lost = exchange['key'] in self._to_lose
        self.sent.append(SentRequest(method, url, path, query, headers, json, data, kwargs, exchange['key'], lost))
        if lost:
            self._to_lose.discard(exchange['key'])
            raise lost_answer(url)
        response = RecordedResponse(exchange, url)
        if raise_exc and response.status_code >= 400:
            from keystoneauth1 import exceptions  # pylint: disable=import-outside-toplevel
            raise exceptions.from_response(response, method, url)
        return response

    def get(self, url, **kwargs):
        return self.request(url, 'GET', **kwargs)

    def head(self, url, **kwargs):
        return self.request(url, 'HEAD', **kwargs)

    def post(self, url, **kwargs):
        return self.request(url, 'POST', **kwargs)

    def put(self, url, **kwargs):
        return self.request(url, 'PUT', **kwargs)

    def patch(self, url, **kwargs):
        return self.request(url, 'PATCH', **kwargs)

    def delete(self, url, **kwargs):
        return self.request(url, 'DELETE', **kwargs)

    def unanswered(self):
        """Keys of the selected exchanges no request has matched yet."""
        return [exchange['key'] for exchange in self.exchanges if id(exchange) not in self._answered]

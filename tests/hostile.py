"""Hostile requests for every protocol parser, and the judge of the answers.

Seeds are real requests: botocore's own serializer builds them for real operations of each
protocol and botocore's SigV4 signer signs them. Mutations then break them the ways an
attacker or a broken client would (bad syntax, wrong types, deep or exploding documents,
invalid UTF-8, oversized headers and URLs, bad aws-chunked framing, short bodies), re-signed
or not. Requests go out as raw bytes over a socket, so nothing client-side cleans them up.

The property (`judge`): every answer is a 4xx in the protocol's error shape (botocore's own
parser reads an error code from it), or a 2xx, or NotImplemented 501; never a 500, never a
hang; framing the HTTP server itself cannot read may get its plain 400 instead.

Used by tests/integration/test_hostile_input.py (a small seeded budget) and bench/fuzz.py
(a long, time-bounded run).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
from dataclasses import dataclass, field, replace
from typing import Callable
from urllib.parse import quote, urlencode, urlsplit

import botocore.session
import cbor2
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

REGION = "us-east-1"
CREDENTIALS = Credentials("test", "test")
TIMEOUT = 10.0
_session = botocore.session.get_session()


@dataclass
class Seed:
    """A real request of one operation, as botocore serializes it."""

    service: str
    protocol: str
    operation: str
    signing_name: str
    method: str
    path: str  # raw, percent-encoded
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Case:
    """One request to send: a seed, mutated; `raw` when it must go out byte for byte."""

    label: str
    seed: Seed
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    sign: bool = True
    # Bytes to send instead of the declared body (shorter: a truncated body, then close).
    sent_body: bytes | None = None
    raw_head: bytes | None = None  # a whole request head sent as is (invalid UTF-8 and the like)
    framing: bool = False  # the HTTP layer itself may refuse it (plain 400)
    meta: dict = field(default_factory=dict)

    def reproducer(self) -> str:
        return f"{self.label}: {self.method} {self.path}?{self.query} body[:200]={self.body[:200]!r}"


# --------------------------------------------------------------------------- seeds


def _model(service: str):
    return _session.get_service_model(service)


def build_seed(service: str, operation: str, params: dict, protocol: str | None = None) -> Seed:
    model = _model(service)
    protocol = protocol or model.metadata["protocol"]
    op = model.operation_model(operation)
    request = create_serializer(protocol).serialize_to_request(params, op)
    url = request["url_path"]
    path, _, query = url.partition("?")
    extra = urlencode(request["query_string"], doseq=True) if request["query_string"] else ""
    query = "&".join(q for q in (query, extra) if q)
    body = request["body"]
    if isinstance(body, dict):  # query/ec2: botocore form-encodes later
        body = urlencode(body, doseq=True).encode()
        request["headers"].setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    elif isinstance(body, str):
        body = body.encode()
    headers = {k: str(v) for k, v in request["headers"].items()}
    if protocol == "json" and "Content-Type" not in headers:
        headers["Content-Type"] = "application/x-amz-json-%s" % model.metadata.get("jsonVersion", "1.0")
    return Seed(service, protocol, operation, model.signing_name, request["method"], path or "/", query,
                headers, body or b"")


def seeds() -> list[Seed]:
    """Real operations of every protocol (including ones gureum answers NotImplemented)."""
    s = build_seed
    item = {"pk": {"S": "k"}, "n": {"N": "1"}, "l": {"L": [{"M": {"a": {"BOOL": True}}}, {"NULL": True}]}}
    return [
        s("sts", "GetCallerIdentity", {}),
        s("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "ss",
                                "Tags": [{"Key": "k", "Value": "v"}], "DurationSeconds": 900}),
        s("iam", "ListUsers", {"MaxItems": 5}),
        s("iam", "PutUserPolicy", {"UserName": "nobody", "PolicyName": "p",
                                   "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": []})}),
        s("ec2", "DescribeInstances", {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}],
                                       "MaxResults": 5}),
        s("ec2", "CreateTags", {"Resources": ["vpc-12345678"], "Tags": [{"Key": "a", "Value": "b"}],
                                "DryRun": True}),
        s("dynamodb", "PutItem", {"TableName": "hostile", "Item": item}),
        s("dynamodb", "Query", {"TableName": "hostile", "KeyConditionExpression": "pk = :p",
                                "ExpressionAttributeValues": {":p": {"S": "k"}}, "Limit": 3}),
        s("lambda", "ListFunctions", {"MaxItems": 5}),
        s("lambda", "CreateFunction", {"FunctionName": "f", "Role": "arn:aws:iam::000000000000:role/r",
                                       "Code": {"ZipFile": b"PK\x05\x06" + b"\0" * 18}, "Runtime": "python3.12",
                                       "Handler": "h.h", "Environment": {"Variables": {"A": "1"}}}),
        s("s3", "PutBucketTagging", {"Bucket": "hostile-bucket",
                                     "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
        s("s3", "DeleteObjects", {"Bucket": "hostile-bucket",
                                  "Delete": {"Objects": [{"Key": "a"}, {"Key": "b/c"}], "Quiet": True}}),
        s("s3", "PutObject", {"Bucket": "hostile-bucket", "Key": "k", "Body": b"x" * 64,
                              "Metadata": {"m": "v"}}),
        s("cloudwatch", "PutMetricData", {"Namespace": "N", "MetricData": [
            {"MetricName": "m", "Value": 1.5, "Dimensions": [{"Name": "d", "Value": "v"}]}]},
          protocol="smithy-rpc-v2-cbor"),
        s("cloudwatch", "ListMetrics", {"Namespace": "N"}, protocol="smithy-rpc-v2-cbor"),
    ]


def case_of(seed: Seed, label: str = "seed") -> Case:
    return Case(label, seed, seed.method, seed.path, seed.query, dict(seed.headers), seed.body)


# --------------------------------------------------------------------------- signing and sending


def signed_headers(case: Case, host: str) -> dict[str, str]:
    """The case's headers, signed by botocore's SigV4 signer when the case asks for it."""
    if not case.sign:
        return {k: v for k, v in case.headers.items() if k.lower() != "host"}
    headers = {k: v for k, v in case.headers.items()
               if k.lower() not in ("authorization", "x-amz-date", "host")}
    url = f"http://{host}{case.path}" + (f"?{case.query}" if case.query else "")
    request = AWSRequest(method=case.method, url=url, headers=headers, data=case.body)
    if case.seed.service == "s3" and case.headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        SigV4Auth(CREDENTIALS, "s3", REGION).add_auth(request)  # keeps the STREAMING- payload literal
    elif case.seed.service == "s3":
        S3SigV4Auth(CREDENTIALS, "s3", REGION).add_auth(request)
    else:
        SigV4Auth(CREDENTIALS, case.seed.signing_name, REGION).add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "host"}


def raw_request(case: Case, host: str) -> tuple[bytes, bytes]:
    """(request head, body bytes to send)."""
    sent = case.body if case.sent_body is None else case.sent_body
    if case.raw_head is not None:
        return case.raw_head, sent
    headers = signed_headers(case, host)
    if not any(k.lower() == "content-length" for k in headers) and "transfer-encoding" not in {
        k.lower() for k in headers
    }:
        headers["Content-Length"] = str(len(case.body))
    target = case.path + (f"?{case.query}" if case.query else "")
    lines = [f"{case.method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"), sent


@dataclass
class Answer:
    status: int  # 0: no answer (connection closed without one)
    headers: dict[str, str]
    body: bytes
    hung: bool = False


def send(host: str, port: int, head: bytes, body: bytes, timeout: float = TIMEOUT) -> Answer:
    """Send the bytes, half-close, read the whole answer (the server closes: Connection: close)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before it read everything
        data = bytearray()
        try:
            while True:
                piece = sock.recv(65536)
                if not piece:
                    break
                data += piece
        except socket.timeout:
            return Answer(0, {}, bytes(data), hung=True)
        except ConnectionResetError:
            pass
    return _parse_answer(bytes(data))


def _parse_answer(data: bytes) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return Answer(0, {}, data)
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return Answer(status, headers, body)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += body[:size]
        body = body[size + 2:]
    return bytes(out)


# --------------------------------------------------------------------------- the property


# Where a mutation changed what the request looks like (an unsigned request whose Action no
# longer reads routes to S3, a Content-Type that no longer says JSON), the answer may rightly
# come in another protocol's error shape: S3's, or the service's other protocol.
_FALLBACK_SHAPES = [("s3", "PutObject"), ("sts", "GetCallerIdentity"), ("ec2", "DescribeInstances"),
                    ("dynamodb", "PutItem"), ("cloudwatch", "ListMetrics")]


def error_code(case: Case, answer: Answer) -> str | None:
    """The error code botocore's own parser reads from the answer, in the protocol the request
    spoke (else in another protocol's error shape when the mutation changed the protocol)."""
    tries = [(case.seed.service, case.seed.operation, case.seed.protocol)]
    if not case.sign or "utf8-header" in case.label:
        tries += [(s, o, _model(s).metadata["protocol"]) for s, o in _FALLBACK_SHAPES]
        tries += [("cloudwatch", "ListMetrics", p) for p in ("json", "query")]
    for service, operation, protocol in tries:
        try:
            parsed = create_parser(protocol).parse(
                {"status_code": answer.status, "headers": answer.headers, "body": answer.body, "context": {}},
                _model(service).operation_model(operation).output_shape,
            )
        except Exception:  # noqa: BLE001 - not this protocol's shape
            continue
        code = (parsed.get("Error") or {}).get("Code")
        if code:
            return code
    raise ValueError("no protocol's error shape")


def judge(case: Case, answer: Answer) -> str | None:
    """None when the answer is acceptable, else what is wrong with it."""
    if answer.hung:
        return "no answer within the client timeout"
    if answer.status == 0:
        return "connection closed without an answer" if not case.framing else None
    if answer.status < 300:
        return None
    if case.framing and answer.status == 400 and answer.headers.get("content-type", "").startswith("text/plain"):
        return None  # the HTTP server's own answer to framing it cannot read
    try:
        code = error_code(case, answer)
    except Exception as e:  # noqa: BLE001 - any parser failure means the shape is wrong
        return f"{answer.status} not in the {case.seed.protocol} error shape ({e}): {answer.body[:300]!r}"
    if answer.status >= 500 and not (answer.status == 501 and code == "NotImplemented"):
        return f"{answer.status} {code}: {answer.body[:300]!r}"
    if code is None:
        return f"{answer.status} with no error code: {answer.body[:300]!r}"
    return None


# --------------------------------------------------------------------------- mutations

Mutation = Callable[[Case, random.Random], Case]


def _with_body(case: Case, label: str, body: bytes, **changes) -> Case:
    return replace(case, label=f"{case.label}+{label}", body=body, **changes)


def _document(case: Case):
    """The seed's body decoded (JSON / CBOR), or None."""
    protocol = case.seed.protocol
    try:
        if protocol in ("json", "rest-json") and case.body:
            return json.loads(case.body)
        if protocol == "smithy-rpc-v2-cbor" and case.body:
            return cbor2.loads(case.body)
    except Exception:  # noqa: BLE001 - an earlier mutation left no document to walk
        return None
    return None


def _encode(case: Case, value) -> bytes:
    if case.seed.protocol == "smithy-rpc-v2-cbor":
        return cbor2.dumps(value)
    return json.dumps(value).encode()


_ODD_VALUES = [None, True, 0, -1, 2**63, -(2**70), 1.5e308, "", "x" * 3, [], {}, [[[]]], {"a": {}},
               "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"), "NaN", "1e999"]


def wrong_types(case: Case, rng: random.Random) -> Case:
    """Replace one value of the document (or of the form) with a value of another type."""
    doc = _document(case)
    if isinstance(doc, (dict, list)) and doc and len(case.body) < 100_000:
        paths: list[list] = []

        def walk(node, trail):
            paths.append(trail)
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, trail + [k])
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, trail + [i])

        walk(doc, [])
        trail = rng.choice(paths[1:] or paths)
        value = rng.choice(_ODD_VALUES)
        if not trail:
            doc = value
        else:
            node = doc
            for step in trail[:-1]:
                node = node[step]
            node[trail[-1]] = value
        return _with_body(case, "wrong-type", _encode(case, doc))
    if case.seed.protocol in ("query", "ec2"):
        pairs = [p.partition("=")[::2] for p in case.body.decode("latin-1").split("&") if p]
        if not pairs:
            return flip_bytes(case, rng)
        name, _ = rng.choice(pairs)
        odd = rng.choice(["", "%ZZ", "a" * 5000, "-1", "9" * 40, "true%00", "%C3%28", "1.5"])
        body = "&".join(f"{k}={odd if k == name else v}" for k, v in pairs).encode("latin-1")
        return _with_body(case, "wrong-type", body)
    if case.body.startswith(b"<"):
        text = case.body.decode("utf-8", "replace")
        return _with_body(case, "wrong-type", text.replace(">v<", "><x>y</x><", 1).replace(
            "true", "maybe").encode())
    return flip_bytes(case, rng)


def flip_bytes(case: Case, rng: random.Random) -> Case:
    body = bytearray(case.body or b"{}")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3)
        at = rng.randrange(len(body) + 1)
        if op == 0 and body:
            body[min(at, len(body) - 1)] = rng.randrange(256)
        elif op == 1:
            body[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif body:
            del body[at:at + rng.randint(1, 8)]
    return _with_body(case, "flip", bytes(body))


def truncate_body(case: Case, rng: random.Random) -> Case:
    """A body cut short (re-signed: the parser sees a prefix of a document)."""
    body = case.body or b"{}"
    return _with_body(case, "truncate", body[: rng.randrange(len(body))])


def broken_syntax(case: Case, rng: random.Random) -> Case:
    samples = {
        "json": [b"{", b'{"a":', b"[1,2", b"\"unterminated", b"{'single': 1}", b"nul", b"{}}", b"\x00",
                 b'{"a":1,"a":2}', b"1e99999", b"[" + b"1," * 1000 + b"]", b'"\\ud800"'],
        "cbor": [b"\xa1", b"\xbf", b"\x9f\x01", b"\xff", b"\x5b" + b"\xff" * 8, b"\x7b" + b"\x7f" * 8,
                 b"\xd9\xd9\xf7", b"\xa1\x80\x01", b"\xc1\x7f", b"\x1b" + b"\xff" * 8,
                 b"\xa1\x61a\xd8\x1e\x82\x01\x00"],
        "xml": [b"<", b"<Tagging>", b"<Tagging></Other>", b"<?xml version='1.0'?>", b"<a><b></a>",
                b"<Tagging xmlns:x='y'><x:TagSet/></Tagging>", b"\xef\xbb\xbf<Tagging/>", b"<![CDATA[",
                b"<Tagging>&bogus;</Tagging>", b"<Tagging><TagSet><Tag><Key>\x00</Key></Tag></TagSet></Tagging>"],
        "query": [b"Action", b"Action=&&&=", b"%", b"Action=%ZZ", b"a=b=c&" * 200, b"Action=GetCallerIdentity&Version"],
    }
    family = _family(case)
    return _with_body(case, "syntax", rng.choice(samples[family]))


def _family(case: Case) -> str:
    protocol = case.seed.protocol
    if protocol in ("json", "rest-json"):
        return "json"
    if protocol == "smithy-rpc-v2-cbor":
        return "cbor"
    if protocol in ("query", "ec2"):
        return "query"
    return "xml"


def deep_document(case: Case, rng: random.Random) -> Case:
    """A document nested far deeper than any model allows."""
    depth = rng.choice([200, 1000, 5000, 100_000])
    family = _family(case)
    if family == "json":
        body = b"[" * depth + b"]" * depth if rng.random() < 0.5 else b'{"a":' * depth + b"1" + b"}" * depth
    elif family == "cbor":
        body = b"\x81" * depth + b"\x01"
    elif family == "xml":
        root = rng.choice([b"Tagging", b"Delete"])
        body = b"<" + root + b">" + b"<a>" * depth + b"</a>" * depth + b"</" + root + b">"
    else:
        body = ("Action=" + case.seed.operation + "&" + ".".join(["a"] * depth) + "=1").encode()
    return _with_body(case, f"deep{depth}", body)


def deep_model_document(case: Case, rng: random.Random) -> Case:
    """Nesting the model allows: DynamoDB's recursive AttributeValue, far too deep."""
    depth = rng.choice([50, 500, 5000, 50_000])
    value: object = {"S": "x"}
    for _ in range(depth):
        value = {"L": [value]}
    if case.seed.service != "dynamodb":
        return deep_document(case, rng)
    doc = {"TableName": "hostile", "Item": {"pk": {"S": "k"}, "deep": value}}
    try:
        body = json.dumps(doc).encode()
    except RecursionError:
        body = (b'{"TableName":"hostile","Item":{"pk":{"S":"k"},"deep":' + b'{"L":[' * depth
                + b'{"S":"x"}' + b"]}" * depth + b"}}")
    return _with_body(case, f"deep-attr{depth}", body)


_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']><Tagging><TagSet><Tag><Key>&lol9;</Key><Value>v</Value></Tag></TagSet></Tagging>')
_XXE = (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Tagging><TagSet><Tag><Key>&x;</Key><Value>v</Value></Tag></TagSet></Tagging>")
_XXE_PARAM = (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
              b"<Tagging/>")
_XINCLUDE = (b'<Tagging xmlns:xi="http://www.w3.org/2001/XInclude"><TagSet><Tag><Key>'
             b'<xi:include href="file:///etc/passwd" parse="text"/></Key><Value>v</Value></Tag></TagSet></Tagging>')


def entity_attack(case: Case, rng: random.Random) -> Case:
    """Billion laughs and external entities: refused, never expanded or fetched."""
    body = rng.choice([_LAUGHS, _XXE, _XXE_PARAM, _XINCLUDE])
    return _with_body(case, "entities", body)


def invalid_utf8(case: Case, rng: random.Random) -> Case:
    """Invalid UTF-8 in the body, the path, the query string or a header."""
    bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"])
    where = rng.choice(["body", "path", "query", "header"])
    if where == "body":
        body = case.body or b"{}"
        at = rng.randrange(len(body) + 1)
        return _with_body(case, "utf8-body", body[:at] + bad + body[at:])
    text = bad.decode("latin-1")
    raw = rng.random() < 0.5  # raw bytes in the request line: the HTTP layer may refuse them
    if where == "path":
        path = case.path.rstrip("/") + "/" + (text if raw else quote(bad))
        return replace(case, label=f"{case.label}+utf8-path", path=path, framing=case.framing or raw)
    if where == "query":
        query = "&".join(q for q in (case.query, "x=" + (text if raw else quote(bad))) if q)
        return replace(case, label=f"{case.label}+utf8-query", query=query, framing=case.framing or raw)
    headers = dict(case.headers)
    headers[rng.choice(["x-amz-meta-bad", "X-Amz-Target", "Content-Type", "x-amz-security-token"])] = (
        headers.get("X-Amz-Target", "a") + text)
    return replace(case, label=f"{case.label}+utf8-header", headers=headers)


def oversized(case: Case, rng: random.Random) -> Case:
    """Huge headers, many headers, a huge URL."""
    kind = rng.choice(["header", "headers", "url", "query"])
    headers = dict(case.headers)
    if kind == "header":
        headers["x-amz-meta-big"] = "a" * rng.choice([9000, 70_000, 1_000_000])
        return replace(case, label=f"{case.label}+big-header", headers=headers, framing=True)
    if kind == "headers":
        for i in range(rng.choice([200, 2000])):
            headers[f"x-amz-meta-h{i}"] = "v"
        return replace(case, label=f"{case.label}+many-headers", headers=headers, framing=True)
    if kind == "url":
        path = case.path.rstrip("/") + "/" + "p" * rng.choice([9000, 70_000, 1_000_000])
        return replace(case, label=f"{case.label}+long-path", path=path, framing=True)
    query = "&".join(q for q in (case.query, "q=" + "v" * rng.choice([9000, 70_000, 1_000_000])) if q)
    return replace(case, label=f"{case.label}+long-query", query=query, framing=True)


def short_body(case: Case, rng: random.Random) -> Case:
    """Content-Length larger than what is sent, then the client closes."""
    body = case.body or b"{}"
    headers = dict(case.headers)
    headers["Content-Length"] = str(len(body) + rng.choice([1, 100, 10_000_000]))
    return replace(case, label=f"{case.label}+short-body", headers=headers, sent_body=body, framing=True)


BODY_MUTATIONS: list[Mutation] = [wrong_types, flip_bytes, truncate_body, broken_syntax, deep_document,
                                  deep_model_document, entity_attack]
ALL_MUTATIONS: list[Mutation] = BODY_MUTATIONS + [invalid_utf8, oversized, short_body]


def mutate(seed: Seed, rng: random.Random) -> Case:
    """One hostile case from a seed: one or two mutations, signed after mutating (mostly)."""
    case = case_of(seed)
    if seed.service == "s3" and seed.operation == "PutObject":
        return chunked_case(seed, rng)
    applicable = ALL_MUTATIONS if seed.protocol != "query" and seed.protocol != "ec2" else [
        m for m in ALL_MUTATIONS if m is not entity_attack]
    if seed.protocol not in ("rest-xml",):
        applicable = [m for m in applicable if m is not entity_attack]
    for _ in range(rng.choice([1, 1, 2])):
        case = rng.choice(applicable)(case, rng)
    case.sign = rng.random() < 0.8
    return case


# --------------------------------------------------------------------------- aws-chunked


def chunked_case(seed: Seed, rng: random.Random) -> Case:
    """An S3 PutObject with a signed aws-chunked body, broken in one of the ways decoders trip on."""
    payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 10, 9000, 20000])))
    sizes = [8192] * (len(payload) // 8192) + ([len(payload) % 8192] if len(payload) % 8192 else [])
    pieces, at = [], 0
    for size in sizes:
        pieces.append(payload[at:at + size])
        at += size
    flaw = rng.choice(["none", "bad-size", "huge-size", "missing-crlf", "bad-signature", "truncated",
                       "small-chunk", "no-final", "trailer-garbage", "declared-length", "negative", "ext"])
    return Case(f"chunked+{flaw}", seed, "PUT", seed.path, "", {
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": str(len(payload) + (5 if flaw == "declared-length" else 0)),
    }, b"", meta={"chunks": pieces, "flaw": flaw})


def finish_chunked(case: Case, host: str) -> Case:
    """Sign the head (seed signature), then chain chunk signatures over the (flawed) body."""
    headers = signed_headers(case, host)
    auth = headers["Authorization"]
    seed_signature = auth.rpartition("Signature=")[2]
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = _signing_key(amz_date[:8])
    flaw = case.meta["flaw"]
    chunks = list(case.meta["chunks"])
    if flaw == "small-chunk" and chunks:
        chunks = [chunks[0][:100], chunks[0][100:]] + chunks[1:]
    body = bytearray()
    previous = seed_signature
    empty = hashlib.sha256(b"").hexdigest()
    for i, data in enumerate(chunks + [b""]):
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty,
                             hashlib.sha256(data).hexdigest()])
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        signature = previous
        if flaw == "bad-signature" and i == 0:
            signature = "0" * 64
        size = b"%x" % len(data)
        if flaw == "bad-size" and i == 0:
            size = b"zz"
        elif flaw == "huge-size" and i == 0:
            size = b"ffffffffffffffff"
        elif flaw == "negative" and i == 0:
            size = b"-1"
        ext = b";chunk-signature=" + signature.encode()
        if flaw == "ext" and i == 0:
            ext = b";" + b"x" * 10_000
        if flaw == "no-final" and not data:
            break
        body += size + ext + b"\r\n"
        if data:
            body += data + (b"\n" if flaw == "missing-crlf" else b"\r\n")
    if flaw == "trailer-garbage":
        body += b"x-amz-checksum-crc32:AAAA\r\n\xff\xfe\r\n"
    else:
        body += b"\r\n"
    if flaw == "truncated":
        body = body[: len(body) // 2]
    headers["Content-Length"] = str(len(body))
    return replace(case, headers=headers, body=bytes(body), sign=False)


def _signing_key(date: str) -> bytes:
    key = ("AWS4" + CREDENTIALS.secret_key).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# --------------------------------------------------------------------------- running


def run_case(case: Case, host: str, port: int) -> tuple[Answer, str | None]:
    netloc = f"{host}:{port}"
    if case.meta.get("flaw") is not None:
        case = finish_chunked(case, netloc)
    head, body = raw_request(case, netloc)
    answer = send(host, port, head, body)
    return answer, judge(case, answer)


def still_serving(host: str, port: int) -> bool:
    """A signed GetCallerIdentity answers 200."""
    case = case_of(build_seed("sts", "GetCallerIdentity", {}))
    answer, _ = run_case(case, host, port)
    return answer.status == 200 and b"GetCallerIdentityResult" in answer.body


def endpoint_parts(endpoint: str) -> tuple[str, int]:
    parts = urlsplit(endpoint)
    return parts.hostname or "127.0.0.1", parts.port or 80

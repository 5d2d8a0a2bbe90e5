#!/usr/bin/env python3
"""A minimal OpenTelemetry collector for the traces test: OTLP/HTTP with protobuf bodies, decoded
with OpenTelemetry's own generated definitions (the `opentelemetry-proto` package).

Listens on 127.0.0.1 at a free port and prints `port N` once it does. `POST /v1/traces` takes an
ExportTraceServiceRequest (anything but `Content-Type: application/x-protobuf` is refused with
415, as a collector would) and answers an ExportTraceServiceResponse; `GET /spans` lists every
span received so far as JSON: name, service name, trace and span ids, parent span id (hex, "" for
a root), start time, attributes. With `--count` (the benchmarks: long runs) the spans are decoded
and counted, not kept, and `GET /spans` answers `{"count": N}`. Ends at SIGTERM.

Usage: otlp_receiver.py [--count]
"""
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SPANS = []
COUNTED = [0]
COUNT_ONLY = "--count" in sys.argv[1:]
LOCK = threading.Lock()


def value_of(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def spans_of(request):
    for resource_spans in request.resource_spans:
        resource = {a.key: value_of(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "name": span.name,
                    "service": resource.get("service.name"),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "start": span.start_time_unix_nano,
                    "attributes": {a.key: value_of(a.value) for a in span.attributes},
                }


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces":
            return self.answer(404, "text/plain", b"not found")
        if self.headers.get("Content-Type") != "application/x-protobuf":
            return self.answer(415, "text/plain", b"OTLP/HTTP protobuf only")
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        spans = list(spans_of(request))
        with LOCK:
            COUNTED[0] += len(spans)
            if not COUNT_ONLY:
                SPANS.extend(spans)
        self.answer(200, "application/x-protobuf", ExportTraceServiceResponse().SerializeToString())

    def do_GET(self):
        if self.path != "/spans":
            return self.answer(404, "text/plain", b"not found")
        with LOCK:
            body = json.dumps({"count": COUNTED[0]} if COUNT_ONLY else SPANS).encode()
        self.answer(200, "application/json", body)

    def answer(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    print(f"port {server.server_address[1]}", flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()

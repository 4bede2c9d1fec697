"""ClickHouse's HTTP interface, in front of the ClickHouse engine that chdb embeds.

No registry this project installs from ships a modern ClickHouse server, but PyPI's `chdb` is
the ClickHouse engine itself (26.x) in a library. This front serves the subset of the HTTP
interface jetbase's client uses, and nothing else: it carries bytes and the engine decides.

- `GET/HEAD /ping` answers `Ok.`
- a query from the `query` URL parameter and/or the request body (joined by a newline, as the
  server does), run in the `database` parameter's (or `X-ClickHouse-Database`'s) database;
- `default_format` (or `X-ClickHouse-Format`): the output format, `TabSeparated` by default;
- `param_NAME=value`: query parameters (`{NAME:Type}` in the query);
- every other parameter is a setting, applied for this query only;
- an error is HTTP 500 with the engine's message as the body and its code in
  `X-ClickHouse-Exception-Code`, as the server does.

The engine runs one query at a time (chdb is one in-process engine); requests wait their turn.
Credentials are accepted as given (the engine has one user).

Usage: python clickhouse_http_front.py PORT DATA_DIR
"""

import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session as chdb_session

NOT_SETTINGS = {"query", "database", "default_format", "session_id", "session_timeout",
                "user", "password", "query_id", "compress", "decompress"}
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CODE = re.compile(r"Code: (\d+)\.")


class Engine:
    def __init__(self, path):
        self.session = chdb_session.Session(path)
        self.lock = threading.Lock()
        self.version = self._scalar("SELECT version()")

    def _scalar(self, sql):
        return self.session.query(sql, "TabSeparated").bytes().decode().strip()

    def run(self, sql, database, output_format, params, settings):
        with self.lock:
            if database:
                self.session.query(f"USE `{database}`")
            previous = {}
            try:
                for name, value in settings.items():
                    previous[name] = self._scalar(
                        f"SELECT value FROM system.settings WHERE name = '{name}'")
                    self.session.query(f"SET {name} = {quote(value)}")
                result = self.session.query(sql, output_format, params=params or None)
                return result.bytes()
            finally:
                for name, value in previous.items():
                    self.session.query(f"SET {name} = {quote(value)}")


def quote(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm holds the
    # body back for the client's delayed acknowledgement (40 ms a response).
    disable_nagle_algorithm = True
    engine = None

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb-front")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_query(self.rfile.read(length))

    def handle_query(self, body):
        url = urlsplit(self.path)
        if url.path in ("/ping", "/ping/"):
            return self.reply(200, b"Ok.\n")
        if url.path not in ("", "/"):
            return self.reply(404, b"There is no handle " + url.path.encode() + b"\n")
        query, database, output_format = "", None, None
        params, settings = {}, {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            if name == "query":
                query = value
            elif name == "database":
                database = value
            elif name == "default_format":
                output_format = value
            elif name.startswith("param_"):
                params[name[len("param_"):]] = value
            elif name not in NOT_SETTINGS and SETTING_NAME.match(name):
                settings[name] = value
        database = database or self.headers.get("X-ClickHouse-Database")
        output_format = output_format or self.headers.get("X-ClickHouse-Format") or "TabSeparated"
        sql = "\n".join(part for part in (query, body.decode("utf-8")) if part)
        if not sql.strip():
            return self.reply(400, b"Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)\n",
                              [("X-ClickHouse-Exception-Code", "62")])
        try:
            data = self.engine.run(sql, database, output_format, params, settings)
        except Exception as error:  # the engine's own exception: its message is the answer
            message = str(error)
            match = CODE.search(message)
            code = match.group(1) if match else "1001"
            text = f"{message} (version {self.engine.version})\n".encode()
            return self.reply(500, text, [("X-ClickHouse-Exception-Code", code),
                                          ("Content-Type", "text/plain; charset=UTF-8")])
        self.reply(200, data, [("Content-Type", "text/plain; charset=UTF-8"),
                               ("X-ClickHouse-Format", output_format)])


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    Handler.engine = Engine(path)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"ClickHouse {Handler.engine.version} (chdb) on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""Databricks' SQL Statement Execution API 2.0, in front of a real Spark SQL engine.

No Databricks workspace is reachable from the test machines. This front serves the part of the
documented API jetbase's client uses, over a local Spark 3.5 session whose catalog is Apache
Iceberg (format v2, merge-on-read), so that UPDATE, DELETE and MERGE run as on Delta tables:

- `POST /api/2.0/sql/statements` with `statement`, `warehouse_id`, `catalog`, `schema`,
  `parameters` (`[{name, value, type}]`, `:name` in the text; no `value` is NULL),
  `wait_timeout` (`0s`, or `5s` to `50s`), `on_wait_timeout`, `disposition` (INLINE only),
  `format` (JSON_ARRAY only). The answer is the statement's state after `wait_timeout`:
  `SUCCEEDED` with `manifest` and the first chunk of `result`, `FAILED` with
  `status.error.{error_code, message}` and `status.sql_state`, or `PENDING`/`RUNNING`.
- `GET /api/2.0/sql/statements/{id}`: the same, now.
- `GET /api/2.0/sql/statements/{id}/result/chunks/{n}`: a chunk of the result; each chunk names
  the next by `next_chunk_index` and `next_chunk_internal_link`.
- `POST /api/2.0/sql/statements/{id}/cancel`: cancels Spark's jobs of the statement.
- `Authorization: Bearer TOKEN` must carry the token this front was started with (401 otherwise).
- A DML statement's result is the row Databricks returns: `num_affected_rows` (and
  `num_inserted_rows` for INSERT), counted from the Iceberg snapshot the statement committed.
  So that the snapshot read is the statement's own, DML statements on one table run one at a
  time here: concurrent writers of a table queue, where Delta would fail all but the first
  with a concurrent-modification conflict.

What Spark 3.5 lacks and this front supplies, so that the SQL jetbase and Python Jetbase send to
Databricks runs unchanged:
- `BIGINT GENERATED ALWAYS AS IDENTITY`: the column is created as a plain BIGINT marked in the
  table's properties, and a single-row `INSERT INTO t (columns) VALUES (...)` that leaves it out
  gets `MAX + 1` (inserts of jetbase's history rows happen under its lock);
- `CURRENT_SCHEMA()` and `INFORMATION_SCHEMA.TABLES` do not exist in Spark 3.5: not emulated
  (jetbase does not use them; Python Jetbase's table checks are compared as text instead).

Behaviour for tests, chosen by the warehouse ID in `http_path` (real warehouses are not named so):
- `unavailable-N-…`: the first N requests naming this warehouse get 503 with `Retry-After: 1`;
- `ratelimited-N-…`: the same with 429;
- `pending-…`: every statement is answered `PENDING` first, whatever `wait_timeout` says, so the
  client has to poll.

Usage: python databricks_http_front.py PORT WAREHOUSE_DIR TOKEN JACKSON_JAR
(JACKSON_JAR: the Jackson classes the Iceberg runtime jar lacks, made by relocate_jar_classes.py)
"""

import datetime
import decimal
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK_ROWS = int(os.environ.get("JETBASE_STANDIN_CHUNK_ROWS", "100"))
STATEMENT_PATH = re.compile(r"^/api/2\.0/sql/statements/([0-9a-f-]+)(/cancel|/result/chunks/(\d+))?$")
IDENTITY = re.compile(r"(\w+)\s+BIGINT\s+GENERATED\s+ALWAYS\s+AS\s+IDENTITY", re.IGNORECASE)
SINGLE_ROW_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+([\w.`]+)\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL)
DML_TABLE = re.compile(
    r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO)\s+([\w.`]+)", re.IGNORECASE)
IDENTITY_PROPERTY = "jetbase.standin.identity"


def start_spark(warehouse_dir, jackson_jar):
    import snowpark_connect_deps_iceberg as iceberg_jars
    from pyspark.sql import SparkSession

    runtime = iceberg_jars.get_jar_path("iceberg-spark-runtime-3.5_2.12-1.10.2.jar")
    catalog = "spark.sql.catalog.spark_catalog"
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("databricks-standin")
        .config("spark.jars", f"{runtime},{jackson_jar}")
        .config("spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config(catalog, "org.apache.iceberg.spark.SparkCatalog")
        # Tables in a directory; a commit renames the next metadata version into place under
        # Iceberg's in-JVM lock manager, so of two writers of one table only one wins (the
        # other fails, or retries and re-checks its rows, as on Delta).
        .config(f"{catalog}.type", "hadoop")
        .config(f"{catalog}.warehouse", warehouse_dir)
        .config(f"{catalog}.table-default.format-version", "2")
        .config(f"{catalog}.table-default.write.update.mode", "merge-on-read")
        .config(f"{catalog}.table-default.write.delete.mode", "merge-on-read")
        .config(f"{catalog}.table-default.write.merge.mode", "merge-on-read")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "768m")
        .config("spark.sql.session.timeZone", "UTC")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("CREATE NAMESPACE IF NOT EXISTS default")
    return spark


class Statement:
    def __init__(self, statement_id, warehouse):
        self.id = statement_id
        self.warehouse = warehouse
        self.state = "PENDING"
        self.done = threading.Event()
        self.columns = []
        self.rows = []
        self.error = None
        self.answered_once = False


class Engine:
    def __init__(self, warehouse_dir, jackson_jar):
        self.spark = start_spark(warehouse_dir, jackson_jar)
        self.sessions = {}
        self.sessions_lock = threading.Lock()
        self.statements = {}
        self.table_locks = {}

    def session(self, catalog, schema):
        key = (catalog or "", schema or "")
        with self.sessions_lock:
            session = self.sessions.get(key)
            if session is None:
                session = self.spark.newSession()
                namespace = [quoted(part) for part in (catalog, schema) if part]
                if namespace:
                    # Spark 3.5 has no USE CATALOG: `USE catalog.schema`, or a catalog alone.
                    session.sql(f"USE {'.'.join(namespace)}")
                current = session.sql("SELECT current_catalog(), current_database()").collect()[0]
                session.namespace = f"{quoted(current[0])}.{quoted(current[1])}"
                self.sessions[key] = session
            return session

    def _table_lock(self, table):
        with self.sessions_lock:
            return self.table_locks.setdefault(table.lower(), threading.Lock())

    def submit(self, request, warehouse):
        statement = Statement(str(uuid.uuid4()), warehouse)
        self.statements[statement.id] = statement
        thread = threading.Thread(target=self._run, args=(statement, request), daemon=True)
        thread.start()
        return statement

    def cancel(self, statement):
        if not statement.done.is_set():
            self.spark.sparkContext.cancelJobGroup(statement.id)
            statement.state = "CANCELED"

    def _run(self, statement, request):
        statement.state = "RUNNING"
        try:
            session = self.session(request.get("catalog"), request.get("schema"))
            session.sparkContext.setJobGroup(statement.id, "statement", interruptOnCancel=True)
            sql = request["statement"]
            args = {p["name"]: typed(p) for p in request.get("parameters") or []}
            statement.columns, statement.rows = self._execute(session, sql, args)
            if statement.state != "CANCELED":
                statement.state = "SUCCEEDED"
        except Exception as error:  # every engine error is the statement's failure
            if statement.state != "CANCELED":
                statement.error = describe(error)
                statement.state = "FAILED"
        finally:
            statement.done.set()

    def _execute(self, session, sql, args):
        identity = IDENTITY.search(sql)
        if identity:
            sql = IDENTITY.sub(r"\1 BIGINT", sql).rstrip().rstrip(";")
            sql = f"{sql} TBLPROPERTIES ('{IDENTITY_PROPERTY}' = '{identity.group(1)}')"
        insert = SINGLE_ROW_INSERT.match(sql)
        if insert:
            sql = self._fill_identity(session, insert) or sql
        dml = DML_TABLE.match(sql)
        if dml:
            # One DML statement at a time per table: Iceberg counts rows per commit, and the
            # commit read after the statement must be the statement's own.
            with self._table_lock(snapshots_of(session, dml.group(2))):
                before = self._snapshot(session, snapshots_of(session, dml.group(2)))
                session.sql(sql, args=args or None).collect()
                return self._affected(session, dml, before)
        frame = session.sql(sql, args=args or None)
        rows = frame.collect()
        columns = [(field.name, field.dataType.simpleString()) for field in frame.schema.fields]
        return columns, [[text(value) for value in row] for row in rows]

    def _fill_identity(self, session, insert):
        table, columns, values = insert.group(1), insert.group(2), insert.group(3)
        try:
            properties = session.sql(f"SHOW TBLPROPERTIES {table} ('{IDENTITY_PROPERTY}')").collect()
        except Exception:
            return None
        identity = properties[0][1] if properties else None
        if not identity or identity.startswith("Table ") or identity in columns:
            return None
        return (f"INSERT INTO {table} ({identity}, {columns}) SELECT "
                f"(SELECT COALESCE(MAX({identity}), 0) + 1 FROM {table}), {values}")

    @staticmethod
    def _snapshot(session, snapshots):
        try:
            rows = session.sql(
                f"SELECT snapshot_id FROM {snapshots} ORDER BY committed_at DESC LIMIT 1"
            ).collect()
        except Exception:
            return None
        return rows[0][0] if rows else None

    def _affected(self, session, dml, before):
        verb, table = dml.group(1).split()[0].upper(), dml.group(2)
        rows = session.sql(
            f"SELECT snapshot_id, summary FROM {snapshots_of(session, table)} "
            "ORDER BY committed_at DESC LIMIT 1"
        ).collect()
        summary = {}
        if rows and rows[0][0] != before:
            summary = {k: int(v) for k, v in rows[0][1].items() if v.isdigit()}
        added = summary.get("added-records", 0)
        removed = summary.get("deleted-records", 0) + summary.get("added-position-deletes", 0)
        if verb == "INSERT":
            return ([("num_affected_rows", "bigint"), ("num_inserted_rows", "bigint")],
                    [[str(added), str(added)]])
        affected = {"UPDATE": added, "DELETE": removed}.get(verb, max(added, removed))
        return [("num_affected_rows", "bigint")], [[str(affected)]]


def snapshots_of(session, table):
    """Iceberg's metadata table of a table's commits (it needs the table's full name)."""
    parts = table.split(".")
    if len(parts) == 1:
        return f"{session.namespace}.{table}.snapshots"
    if len(parts) == 2:
        return f"{session.namespace.split('.')[0]}.{table}.snapshots"
    return f"{table}.snapshots"


def quoted(name):
    return "`" + name.replace("`", "``") + "`"


def typed(parameter):
    value = parameter.get("value")
    kind = (parameter.get("type") or "STRING").upper()
    if value is None:
        return None
    if kind in ("BIGINT", "INT", "SMALLINT", "TINYINT", "LONG", "INTEGER"):
        return int(value)
    if kind == "BOOLEAN":
        return value.lower() == "true"
    return value


def text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (datetime.date, decimal.Decimal)):
        return str(value)
    return str(value)


def describe(error):
    """Spark's error class and SQLSTATE, in Databricks' message form."""
    state = getattr(error, "getSqlState", lambda: None)() if hasattr(error, "getSqlState") else None
    message = str(error).strip()
    if message.startswith("An error occurred while calling") and hasattr(error, "java_exception"):
        message = str(error.java_exception.toString())
    message = message.split("\n\nJVM stacktrace:")[0].strip()
    if state:
        message = f"{message} SQLSTATE: {state}"
    return {"error_code": "BAD_REQUEST", "message": message, "sql_state": state}


class Faults:
    """The test behaviours chosen by warehouse ID."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def refusal(self, warehouse):
        match = re.match(r"^(unavailable|ratelimited)-(\d+)-", warehouse or "")
        if not match:
            return None
        with self.lock:
            served = self.counts.get(warehouse, 0)
            self.counts[warehouse] = served + 1
        if served >= int(match.group(2)):
            return None
        return 503 if match.group(1) == "unavailable" else 429


def wait_seconds(text_value):
    match = re.match(r"^(\d+)s$", text_value or "10s")
    return int(match.group(1)) if match else 10


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    engine = None
    token = None
    faults = Faults()
    warehouse_of = {}

    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        if self.headers.get("Authorization") == f"Bearer {self.token}":
            return True
        self._send(401, {"error_code": "UNAUTHENTICATED",
                         "message": "Invalid access token. Verify the token and try again."})
        return False

    def _refused(self, warehouse):
        status = self.faults.refusal(warehouse)
        if status is None:
            return False
        code = "TEMPORARILY_UNAVAILABLE" if status == 503 else "RESOURCE_EXHAUSTED"
        self._send(status, {"error_code": code, "message": "try again later"},
                   [("Retry-After", "1")])
        return True

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self._authorized():
            return
        if self.path == "/api/2.0/sql/statements":
            self._submit(body)
            return
        match = STATEMENT_PATH.match(self.path)
        statement = match and self.engine.statements.get(match.group(1))
        if not statement or match.group(2) != "/cancel":
            self._send(404, {"error_code": "NOT_FOUND", "message": f"no such path {self.path}"})
            return
        self.engine.cancel(statement)
        self._send(200, {})

    def _submit(self, body):
        warehouse = body.get("warehouse_id")
        if self._refused(warehouse):
            return
        if not body.get("statement") or not warehouse:
            self._send(400, {"error_code": "INVALID_PARAMETER_VALUE",
                             "message": "statement and warehouse_id are required"})
            return
        if body.get("disposition", "INLINE") != "INLINE" or body.get("format", "JSON_ARRAY") != "JSON_ARRAY":
            self._send(400, {"error_code": "INVALID_PARAMETER_VALUE",
                             "message": "this stand-in serves disposition INLINE, format JSON_ARRAY"})
            return
        statement = self.engine.submit(body, warehouse)
        if not warehouse.startswith("pending-"):
            statement.done.wait(wait_seconds(body.get("wait_timeout")))
        self._send(200, self._status(statement, first_answer=True))

    def do_GET(self):
        if not self._authorized():
            return
        match = STATEMENT_PATH.match(self.path)
        statement = match and self.engine.statements.get(match.group(1))
        if not statement or match.group(2) == "/cancel":
            self._send(404, {"error_code": "NOT_FOUND", "message": f"no such path {self.path}"})
            return
        if self._refused(statement.warehouse):
            return
        if match.group(3) is not None:
            self._send(200, chunk(statement, int(match.group(3))))
        else:
            self._send(200, self._status(statement))

    def _status(self, statement, first_answer=False):
        state = statement.state
        if first_answer and statement.warehouse.startswith("pending-"):
            state = "PENDING"
        body = {"statement_id": statement.id, "status": {"state": state}}
        if state == "FAILED":
            error = dict(statement.error)
            sql_state = error.pop("sql_state")
            body["status"]["error"] = error
            if sql_state:
                body["status"]["sql_state"] = sql_state
        elif state == "SUCCEEDED":
            total = len(statement.rows)
            chunks = max(1, -(-total // CHUNK_ROWS))
            body["manifest"] = {
                "format": "JSON_ARRAY",
                "schema": {"column_count": len(statement.columns), "columns": [
                    {"name": name, "position": i, "type_name": kind.upper(), "type_text": kind.upper()}
                    for i, (name, kind) in enumerate(statement.columns)]},
                "total_row_count": total,
                "total_chunk_count": chunks,
                "chunks": [{"chunk_index": i, "row_offset": i * CHUNK_ROWS,
                            "row_count": min(CHUNK_ROWS, total - i * CHUNK_ROWS)}
                           for i in range(chunks)],
                "truncated": False,
            }
            body["result"] = chunk(statement, 0)
        return body


def chunk(statement, index):
    rows = statement.rows[index * CHUNK_ROWS:(index + 1) * CHUNK_ROWS]
    body = {"chunk_index": index, "row_offset": index * CHUNK_ROWS, "row_count": len(rows)}
    if rows:
        body["data_array"] = rows
    if (index + 1) * CHUNK_ROWS < len(statement.rows):
        body["next_chunk_index"] = index + 1
        body["next_chunk_internal_link"] = (
            f"/api/2.0/sql/statements/{statement.id}/result/chunks/{index + 1}")
    return body


def main():
    port, warehouse_dir, token, jackson_jar = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    started = time.time()
    Handler.engine = Engine(warehouse_dir, jackson_jar)
    Handler.token = token
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"Spark ready in {time.time() - started:.1f} s; serving on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

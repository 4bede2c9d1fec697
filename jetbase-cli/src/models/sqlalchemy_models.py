"""Reads a project's SQLAlchemy models and prints their tables as JSON, for `jetbase
make-migrations` (the jetbase command carries this script and runs it with the project's Python).

Usage: python - DIALECT ROOT PATH...   (the script on standard input)

DIALECT is postgresql, mysql or sqlite: each column's type is compiled for it by SQLAlchemy.
ROOT goes first on sys.path, as Python Jetbase puts the project root there; each PATH is a .py
file, imported as the module its path below ROOT names (models/user.py -> models.user), or by
its file when it is elsewhere. Every MetaData reachable from the imported modules (declarative
bases' `metadata`, and MetaData objects themselves) is read.

Exit codes: 0 with the JSON on stdout; 3 when SQLAlchemy cannot be imported; 4 when a model
module fails to import (its traceback on stderr); 5 when a column's type has no spelling in the
dialect (SQLAlchemy's own message on stderr).
"""

import importlib
import importlib.util
import json
import os
import sys
import traceback

try:
    import sqlalchemy
    from sqlalchemy import MetaData, UniqueConstraint
    from sqlalchemy.dialects import mysql, postgresql, sqlite
except ImportError as error:
    sys.stderr.write("SQLAlchemy cannot be imported: %s\n" % error)
    sys.exit(3)

DIALECTS = {
    "postgresql": postgresql.dialect,
    "mysql": mysql.dialect,
    "sqlite": sqlite.dialect,
}


def module_name(root, path):
    relative = os.path.relpath(path, root)
    if relative.startswith(".."):
        return None
    parts = relative[: -len(".py")].split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def import_file(root, path):
    name = module_name(root, path)
    if name is not None:
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location("jetbase_models_%d" % abs(hash(path)), path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def metadatas(modules):
    found = []
    seen = set()
    for module in modules:
        for value in list(vars(module).values()):
            candidate = value if isinstance(value, MetaData) else getattr(value, "metadata", None)
            if isinstance(value, type) or isinstance(value, MetaData):
                if isinstance(candidate, MetaData) and id(candidate) not in seen:
                    seen.add(id(candidate))
                    found.append(candidate)
    return found


def server_default(column):
    default = column.server_default
    if default is None or not hasattr(default, "arg"):
        return None
    argument = default.arg
    if isinstance(argument, str):
        return "'" + argument.replace("'", "''") + "'"
    text = getattr(argument, "text", None)
    if text is not None:
        return text
    return str(argument.compile(dialect=DIALECT))


def read_table(table):
    autoincrement = table.autoincrement_column
    columns = []
    for column in table.columns:
        try:
            compiled = column.type.compile(dialect=DIALECT)
        except Exception as error:
            sys.stderr.write("%s.%s: %s\n" % (table.name, column.name, error))
            sys.exit(5)
        columns.append(
            {
                "name": column.name,
                "type": compiled,
                "nullable": bool(column.nullable),
                "default": server_default(column),
                "autoincrement": autoincrement is not None and column is autoincrement,
            }
        )
    indexes = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            indexes.append(
                {
                    "name": constraint.name if isinstance(constraint.name, str) else None,
                    "columns": [column.name for column in constraint.columns],
                    "unique": True,
                }
            )
    for index in table.indexes:
        indexes.append(
            {
                "name": index.name if isinstance(index.name, str) else None,
                "columns": [getattr(expression, "name", str(expression)) for expression in index.expressions],
                "unique": bool(index.unique),
            }
        )
    foreign_keys = []
    for key in table.foreign_key_constraints:
        target = [element.target_fullname.split(".") for element in key.elements]
        foreign_keys.append(
            {
                "name": key.name if isinstance(key.name, str) else None,
                "columns": [element.parent.name for element in key.elements],
                "references_table": target[0][-2],
                "references_columns": [parts[-1] for parts in target],
                "on_delete": key.ondelete,
            }
        )
    return {
        "name": table.name,
        "columns": columns,
        "primary_key": [column.name for column in table.primary_key.columns],
        "indexes": indexes,
        "foreign_keys": foreign_keys,
    }


def main():
    global DIALECT
    dialect_name, root, paths = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3:]
    DIALECT = DIALECTS[dialect_name]()
    sys.path.insert(0, root)
    modules = []
    for path in paths:
        try:
            modules.append(import_file(root, os.path.abspath(path)))
        except Exception:
            sys.stderr.write("importing %s failed:\n" % path)
            sys.stderr.write(traceback.format_exc())
            sys.exit(4)
    tables = []
    seen = set()
    for metadata in metadatas(modules):
        try:
            ordered = metadata.sorted_tables
        except Exception:
            # A foreign key to a table of another MetaData (two declarative bases): SQLAlchemy
            # cannot order them, jetbase can.
            ordered = list(metadata.tables.values())
        for table in ordered:
            if table.name not in seen:
                seen.add(table.name)
                tables.append(read_table(table))
    json.dump({"sqlalchemy": sqlalchemy.__version__, "tables": tables}, sys.stdout)


main()

#!/usr/bin/env python3
"""Lists a crate's public API from rustdoc's JSON output, one item per line, sorted: the path,
the kind, and for functions and methods their signature as rustdoc gives it. The list is
committed under api/; scripts/public_api.sh regenerates it and shows what changed, so that a
change to the public API is seen (and reviewed) in the diff that makes it.

    python3 scripts/public_api.py target/doc/jetbase.json
"""

import json
import sys


def render_type(t):
    """A rustdoc JSON type, written back as Rust (close enough to compare two versions)."""
    if t is None:
        return "()"
    if isinstance(t, str):
        return t
    (kind, value), = t.items()
    if kind == "resolved_path":
        args = value.get("args")
        return value["path"] + render_generic_args(args)
    if kind == "generic":
        return value
    if kind == "primitive":
        return value
    if kind == "borrowed_ref":
        lifetime = (value.get("lifetime") or "") + " " if value.get("lifetime") else ""
        mutable = "mut " if value.get("is_mutable") else ""
        return "&" + lifetime + mutable + render_type(value["type"])
    if kind == "raw_pointer":
        return ("*mut " if value.get("is_mutable") else "*const ") + render_type(value["type"])
    if kind == "slice":
        return "[" + render_type(value) + "]"
    if kind == "array":
        return "[" + render_type(value["type"]) + "; " + str(value["len"]) + "]"
    if kind == "tuple":
        return "(" + ", ".join(render_type(x) for x in value) + ")"
    if kind == "impl_trait":
        return "impl " + " + ".join(render_bound(b) for b in value)
    if kind == "dyn_trait":
        traits = [
            p["trait"]["path"] + render_generic_args(p["trait"].get("args"))
            for p in value.get("traits", [])
        ]
        if value.get("lifetime"):
            traits.append(value["lifetime"])
        return "dyn " + " + ".join(traits)
    if kind == "qualified_path":
        return "<" + render_type(value["self_type"]) + ">::" + value["name"]
    if kind == "function_pointer":
        return "fn(..)"
    return kind


def render_generic_args(args):
    if not args:
        return ""
    if "angle_bracketed" in args:
        parts = []
        for a in args["angle_bracketed"].get("args", []):
            if "type" in a:
                parts.append(render_type(a["type"]))
            elif "lifetime" in a:
                parts.append(a["lifetime"])
            elif "const" in a:
                parts.append(str(a["const"].get("expr")))
        for c in args["angle_bracketed"].get("constraints", []):
            binding = c.get("binding", {})
            if "equality" in binding:
                eq = binding["equality"]
                parts.append(c["name"] + " = " + render_type(eq.get("type")))
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in args:
        p = args["parenthesized"]
        out = "(" + ", ".join(render_type(x) for x in p.get("inputs", [])) + ")"
        if p.get("output"):
            out += " -> " + render_type(p["output"])
        return out
    return ""


def render_bound(b):
    if "trait_bound" in b:
        tr = b["trait_bound"]["trait"]
        return tr["path"] + render_generic_args(tr.get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "?"


def signature(item):
    inner = item["inner"]
    function = inner.get("function")
    if function is None:
        return ""
    sig = function["sig"]
    inputs = ", ".join(
        name + ": " + render_type(ty) if name != "self" else render_type(ty)
        for name, ty in sig["inputs"]
    )
    output = render_type(sig.get("output")) if sig.get("output") else "()"
    header = function.get("header", {})
    prefix = ("async " if header.get("is_async") else "") + ("const " if header.get("is_const") else "")
    return f" {prefix}fn({inputs}) -> {output}"


def main(path):
    doc = json.load(open(path))
    index = doc["index"]
    paths = doc["paths"]
    root = doc["root"]
    crate_name = index[str(root)]["name"]
    lines = set()

    def visit(item_id, prefix, seen):
        if item_id in seen:
            return
        seen = seen | {item_id}
        item = index.get(str(item_id))
        if item is None:
            return
        inner = item["inner"]
        (kind, value), = inner.items() if isinstance(inner, dict) else (("?", None),)
        if item.get("visibility") != "public" and kind not in ("impl",):
            return
        if "doc(hidden)" in " ".join(a if isinstance(a, str) else json.dumps(a) for a in item.get("attrs", [])):
            return
        name = item.get("name")
        here = prefix + ("::" + name if name else "")
        if kind == "module":
            lines.add(f"{here} module")
            for child in value["items"]:
                visit(child, here, seen)
        elif kind == "use":
            target = value.get("id")
            alias = value.get("name")
            if target is not None and str(target) in index:
                target_item = dict(index[str(target)])
                target_item["name"] = alias
                target_item["visibility"] = "public"
                index[f"use{target}:{here}"] = target_item
                visit(f"use{target}:{here}", prefix, seen)
            else:
                lines.add(f"{prefix}::{alias} re-export of {value.get('source')}")
        elif kind in ("struct", "enum", "union", "trait"):
            lines.add(f"{here} {kind}")
            if kind == "struct":
                fields = value.get("kind", {})
                if isinstance(fields, dict) and "plain" in fields:
                    for field in fields["plain"].get("fields", []):
                        f_item = index.get(str(field))
                        if f_item and f_item.get("visibility") == "public":
                            lines.add(f"{here}::{f_item['name']} field: {render_type(f_item['inner']['struct_field'])}")
            if kind == "enum":
                for variant in value.get("variants", []):
                    v_item = index.get(str(variant))
                    if v_item:
                        lines.add(f"{here}::{v_item['name']} variant")
            if kind == "trait":
                for member in value.get("items", []):
                    m_item = index.get(str(member))
                    if m_item and "doc(hidden)" not in json.dumps(m_item.get("attrs", [])):
                        lines.add(f"{here}::{m_item['name']} trait item{signature(m_item)}")
            for impl_id in value.get("impls", []):
                impl = index.get(str(impl_id))
                if not impl:
                    continue
                imp = impl["inner"]["impl"]
                if imp.get("trait") is not None:
                    trait = imp["trait"]["path"]
                    if imp.get("is_synthetic") or imp.get("blanket_impl"):
                        continue
                    lines.add(f"{here} impl {trait}")
                    continue
                for member in imp.get("items", []):
                    m_item = index.get(str(member))
                    if m_item and m_item.get("visibility") == "public" and "doc(hidden)" not in json.dumps(m_item.get("attrs", [])):
                        lines.add(f"{here}::{m_item['name']}{signature(m_item)}")
        elif kind == "function":
            lines.add(f"{here}{signature(item)}")
        else:
            lines.add(f"{here} {kind}")

    visit(root, "", frozenset())
    for line in sorted(lines):
        print(line.lstrip(":"))


if __name__ == "__main__":
    main(sys.argv[1])

"""The published JSON Schemas (docs/schema) for tests: validate a document with the
`jsonschema` library, and find what validation alone lets through: keys the schema does
not declare (so the docs stay exact) and "" where the schema says a value may be null."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schema"


def schema_files() -> list[Path]:
    return sorted(SCHEMA_DIR.glob("*.json"))


@cache
def registry() -> Registry:
    return Registry().with_resources(
        (p.name, Resource.from_contents(json.loads(p.read_text()),
                                        default_specification=DRAFT202012))
        for p in schema_files())


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": name}, registry=registry())


def problems(doc, name: str) -> list[str]:
    """Every way `doc` breaks schema `name`: validation errors, undeclared keys, and ""
    where null is the documented absence."""
    out = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
           for e in validator(name).iter_errors(doc)]
    resolver = registry().resolver(name)
    _walk(registry().contents(name), resolver, doc, name, out)
    return out


def _types(schema) -> set[str]:
    t = schema.get("type")
    return {t} if isinstance(t, str) else set(t or ())


def _expand(schema, resolver, instance=None, *, all_branches: bool = False):
    """`schema` and every schema it applies in place ($ref, allOf, and the anyOf/oneOf
    branches that could match the instance's type), each with its resolver."""
    out, stack = [], [(schema, resolver)]
    kind = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(instance))
    while stack:
        s, r = stack.pop()
        if not isinstance(s, dict):
            continue
        out.append((s, r))
        if "$ref" in s:
            found = r.lookup(s["$ref"])
            stack.append((found.contents, found.resolver))
        stack.extend((sub, r) for sub in s.get("allOf", ()))
        for sub in (*s.get("anyOf", ()), *s.get("oneOf", ())):
            types = _types(sub) if "$ref" not in sub else set()
            if all_branches or not types or kind in types or (
                    kind == "integer" and "number" in types):
                stack.append((sub, r))
    return out


def _admits_null(schema, resolver) -> bool:
    for s, _ in _expand(schema, resolver, all_branches=True):
        if "null" in _types(s) or (None in s.get("enum", ())) or \
                ("const" in s and s["const"] is None):
            return True
    return False


def _walk(schema, resolver, instance, path: str, out: list[str]) -> None:
    if instance == "" and _admits_null(schema, resolver):
        out.append(f'{path}: "" where the schema says null is the absent value')
    parts = _expand(schema, resolver, instance)
    if isinstance(instance, dict):
        props = {}
        for s, r in parts:
            for key, sub in s.get("properties", {}).items():
                props.setdefault(key, []).append((sub, r))
        if not props:
            return  # a free-form object (an event's before/after, an import's changes)
        for key, value in instance.items():
            if key not in props:
                out.append(f"{path}/{key}: not declared in the schema")
                continue
            for sub, r in props[key]:
                _walk(sub, r, value, f"{path}/{key}", out)
    elif isinstance(instance, list):
        for s, r in parts:
            if "items" in s:
                for i, item in enumerate(instance):
                    _walk(s["items"], r, item, f"{path}/{i}", out)

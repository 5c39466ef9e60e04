"""The API reference at ``/docs``: the app's OpenAPI document rendered as plain HTML.

No JavaScript and nothing from another site (FastAPI's stock Swagger UI and ReDoc pages
load from a CDN, so they are blank offline and need a looser Content Security Policy):
every route with its method, parameters, request body, responses and security, then
every schema with its fields. The machine-readable document stays at ``/openapi.json``.

>>> spec = {"paths": {"/x": {"get": {"summary": "Get X", "responses": {"200": {
...     "description": "OK", "content": {"application/json": {"schema": {"type": "integer"}}}}}}}}}
>>> [(op.method, op.path, op.responses[0].status) for op in operations(spec)]
[('GET', '/x', '200')]
>>> str(schema_type({"anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]}))
'<a href="#schema-Item">Item</a> or null'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

__all__ = [
    "Field",
    "Operation",
    "Payload",
    "Response",
    "Schema",
    "SecurityScheme",
    "constraints",
    "operations",
    "prose",
    "schema_type",
    "schemas",
    "security_schemes",
]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF = "#/components/schemas/"


@dataclass
class Field:
    """One parameter of an operation, or one property of a schema."""

    name: str
    type: Markup
    required: bool
    description: str = ""
    constraints: str = ""
    where: str = ""  # a parameter's location: path, query, header or cookie


@dataclass
class Payload:
    """A body of one media type."""

    media_type: str
    type: Markup | None


@dataclass
class Response:
    """One documented answer of an operation."""

    status: str
    description: str
    bodies: list[Payload] = field(default_factory=list)


@dataclass
class Operation:
    """One method on one path."""

    method: str
    path: str
    anchor: str
    summary: str
    description: str
    tags: list[str]
    parameters: list[Field]
    body: list[Payload]
    body_required: bool
    responses: list[Response]
    security: list[str]


@dataclass
class Schema:
    """One named schema of ``components.schemas``."""

    name: str
    anchor: str
    description: str
    type: Markup
    fields: list[Field]


@dataclass
class SecurityScheme:
    """One way to authenticate (``components.securitySchemes``)."""

    name: str
    description: str
    how: str


def prose(text: str) -> Markup:
    """``text`` HTML-escaped as paragraphs (split at blank lines); backticks become code.

    >>> str(prose("Send ``text`` <or> `url`.\\n\\nNot both."))
    '<p>Send <code>text</code> &lt;or&gt; <code>url</code>.</p><p>Not both.</p>'
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = []
    for paragraph in paragraphs:
        escaped = str(escape(" ".join(paragraph.split())))
        escaped = _CODE.sub(r"<code>\1</code>", escaped)
        out.append(f"<p>{escaped}</p>")
    return Markup("".join(out))


_CODE = re.compile(r"``?([^`]+?)``?")


def _anchor(*parts: str) -> str:
    """An HTML id from ``parts``: letters, digits and dashes only."""
    text = "-".join(parts)
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


def schema_type(schema: Any) -> Markup:
    """A short, HTML-safe description of a JSON schema's type.

    A reference becomes a link to its schema on the page; ``anyOf``/``oneOf`` read
    "A or B"; arrays "array of A"; enums list their values.
    """
    if not isinstance(schema, dict) or not schema:
        return Markup("any")
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.removeprefix(_REF)
        return Markup('<a href="#{}">{}</a>').format(_anchor("schema", name), name)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return Markup(" or ").join(schema_type(o) for o in options)
    options = schema.get("allOf")
    if isinstance(options, list) and options:
        return Markup(" and ").join(schema_type(o) for o in options)
    if "const" in schema:
        return Markup("{}").format(json.dumps(schema["const"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return Markup(" or ").join(escape(str(k)) for k in kind)
    if "enum" in schema:
        values = ", ".join(json.dumps(v) for v in schema["enum"])
        return Markup("{} (one of {})").format(kind or "value", values)
    if kind == "array":
        return Markup("array of ") + schema_type(schema.get("items"))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("object of ") + schema_type(schema["additionalProperties"])
    if kind is None:
        return Markup("any")
    fmt = schema.get("format")
    return Markup("{} ({})").format(kind, fmt) if fmt else Markup("{}").format(kind)


_LIMITS = (
    ("minimum", "at least {}"),
    ("exclusiveMinimum", "over {}"),
    ("maximum", "at most {}"),
    ("exclusiveMaximum", "under {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches {}"),
    ("default", "default {}"),
)


def constraints(schema: Any) -> str:
    """The limits and default of a schema (and of its non-null ``anyOf`` options), in words."""
    if not isinstance(schema, dict):
        return ""
    parts: list[str] = []
    sources = [schema]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            sources.extend(o for o in options if isinstance(o, dict))
    for source in sources:
        for key, words in _LIMITS:
            if key in source:
                value = source[key]
                parts.append(words.format(value if key == "pattern" else json.dumps(value)))
    return "; ".join(dict.fromkeys(parts))


def _payloads(content: Any) -> list[Payload]:
    if not isinstance(content, dict):
        return []
    return [
        Payload(str(media), schema_type(body["schema"]) if body.get("schema") else None)
        for media, body in content.items()
        if isinstance(body, dict)
    ]


def _parameter(param: dict[str, Any]) -> Field:
    schema = param.get("schema", {})
    description = param.get("description") or (
        schema.get("description", "") if isinstance(schema, dict) else ""
    )
    return Field(
        name=str(param.get("name", "")),
        type=schema_type(schema),
        required=bool(param.get("required", False)),
        description=str(description),
        constraints=constraints(schema),
        where=str(param.get("in", "")),
    )


def operations(spec: dict[str, Any]) -> list[Operation]:
    """Every operation of the OpenAPI document ``spec``, in the document's order."""
    found: list[Operation] = []
    default_security = spec.get("security", [])
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            body = op.get("requestBody") or {}
            security = op.get("security", default_security)
            found.append(
                Operation(
                    method=method.upper(),
                    path=str(path),
                    anchor=_anchor("op", method, path),
                    summary=str(op.get("summary", "")),
                    description=str(op.get("description", "")),
                    tags=[str(t) for t in op.get("tags", [])],
                    parameters=[_parameter(p) for p in [*shared, *op.get("parameters", [])]],
                    body=_payloads(body.get("content")),
                    body_required=bool(body.get("required", False)),
                    responses=[
                        Response(
                            str(status),
                            str(answer.get("description", "")),
                            _payloads(answer.get("content")),
                        )
                        for status, answer in op.get("responses", {}).items()
                    ],
                    security=list(dict.fromkeys(n for req in security for n in req)),
                )
            )
    return found


def schemas(spec: dict[str, Any]) -> list[Schema]:
    """Every named schema of ``spec``, sorted by name, with its properties."""
    found: list[Schema] = []
    named = spec.get("components", {}).get("schemas", {})
    for name in sorted(named):
        schema = named[name]
        required = set(schema.get("required", []))
        fields = [
            Field(
                name=str(prop),
                type=schema_type(inner),
                required=prop in required,
                description=str(inner.get("description", "")) if isinstance(inner, dict) else "",
                constraints=constraints(inner),
            )
            for prop, inner in schema.get("properties", {}).items()
        ]
        found.append(
            Schema(
                name=str(name),
                anchor=_anchor("schema", name),
                description=str(schema.get("description", "")),
                type=schema_type({k: v for k, v in schema.items() if k != "properties"}),
                fields=fields,
            )
        )
    return found


def security_schemes(spec: dict[str, Any]) -> list[SecurityScheme]:
    """The document's security schemes, each with how to send its credential."""
    found: list[SecurityScheme] = []
    for name, scheme in spec.get("components", {}).get("securitySchemes", {}).items():
        kind = scheme.get("type")
        if kind == "http":
            how = f"HTTP header Authorization: {str(scheme.get('scheme', '')).title()} KEY"
        elif kind == "apiKey":
            how = f"{scheme.get('in', '')} {scheme.get('name', '')}: KEY"
        else:
            how = str(kind)
        found.append(SecurityScheme(str(name), str(scheme.get("description", "")), how))
    return found

"""The API's OpenAPI schema as schemathesis reads it, and the check that a response is one
it documents."""

from __future__ import annotations

import functools
import json
import re

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


@functools.cache
def api_schema():
    """The API's OpenAPI schema, as schemathesis reads it."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(spec)))


def body_of(response) -> bytes:
    """The body of a response, streamed (a CSV export) or not; readable again after."""
    if not response.streaming:
        return response.content
    body = b"".join(response.streaming_content)
    response.streaming_content = [body]
    return body


def assert_documented(response) -> None:
    """The response is one the schema documents for its operation: status code, content
    type and body. Routes outside the schema (the schema and docs pages) are skipped."""
    method, path = response.request["REQUEST_METHOD"], response.request["PATH_INFO"]
    schema = api_schema()
    operation = schema.find_operation_by_path(method, path) or schema.find_operation_by_path(
        method, path.rstrip("/") + "/"
    )
    if operation is None and path.startswith(("/api/schema/", "/api/docs/", "/api/redoc/")):
        return
    assert operation is not None, f"{method} {path} is not in the schema"
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(operation.path.rstrip("/")))
    path_parameters = re.fullmatch(pattern + "/?", path).groupdict()
    operation.Case(path_parameters=path_parameters).validate_response(
        schemathesis.Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.items()},
            content=body_of(response),
            request=requests.Request(method, f"http://testserver{path}").prepare(),
            elapsed=0.0,
            verify=False,
        ),
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )

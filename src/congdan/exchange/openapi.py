"""An OpenAPI 3.1 description of each data service, generated from the catalogue: the
endpoint, the purposes it may be used for, and the fields it can return."""

from __future__ import annotations

from typing import Any

from congdan.exchange.models import DataService, ServiceKind

# JSON schema of each field a service can return.
_STRING = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_UNIT = {
    "type": ["object", "null"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}
FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "birth_date": _DATE,
    "death_date": _DATE,
    "permanent_since": _DATE,
    "temporary_until": _DATE,
    "card_issue_date": _DATE,
    "card_expiry_date": _DATE,
    "home_town": _UNIT,
    "permanent_commune": _UNIT,
    "permanent_province": _UNIT,
    "sex": {"type": "string", "enum": ["M", "F"]},
    "vital_status": {"type": "string", "enum": ["alive", "deceased", "missing"]},
    "card_status": {
        "type": ["string", "null"],
        "enum": ["valid", "expired", "replaced", "lost", "revoked", None],
    },
    "members": {
        "type": ["array", "null"],
        "items": {
            "type": "object",
            "properties": {
                "id_number": {"type": "string"},
                "full_name": {"type": "string"},
                "relationship": {"type": "string"},
            },
        },
    },
}
_ERROR = {
    "description": "Refused: see `code`",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        }
    },
}
_PURPOSE_HEADER = {
    "name": "X-Purpose",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
}


def _operation(service: DataService, purposes: list[str]) -> tuple[str, str, dict[str, Any]]:
    purpose = dict(_PURPOSE_HEADER, schema={"type": "string", "enum": purposes})
    errors = {str(code): _ERROR for code in (401, 403, 404, 422, 429)}
    if service.kind == ServiceKind.VERIFY:
        body = {
            "type": "object",
            "required": ["id_number", "attributes"],
            "properties": {
                "id_number": {"type": "string", "pattern": "^[0-9]{12}$"},
                "attributes": {
                    "type": "object",
                    "properties": {name: {"type": "string"} for name in service.fields},
                },
            },
        }
        result = {
            "type": "object",
            "properties": {
                "id_number": {"type": "string"},
                "results": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "enum": ["match", "no_match"]},
                },
                "all_match": {"type": "boolean"},
            },
        }
        return (
            "/verify",
            "post",
            {
                "summary": service.name,
                "parameters": [purpose],
                "requestBody": {"content": {"application/json": {"schema": body}}},
                "responses": {
                    "200": {"content": {"application/json": {"schema": result}}},
                    **errors,
                },
            },
        )
    if service.kind == ServiceKind.EVENTS:
        event = {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": list(service.fields)},
                "id_number": {"type": "string"},
                "event_date": {"type": "string", "format": "date"},
            },
        }
        return (
            "/events",
            "get",
            {
                "summary": service.name,
                "parameters": [
                    purpose,
                    {"name": "after", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "events": {"type": "array", "items": event},
                                        "next": {"type": "integer"},
                                    },
                                }
                            }
                        }
                    },
                    **errors,
                },
            },
        )
    person = {
        "type": "object",
        "properties": {name: FIELD_SCHEMAS.get(name, _STRING) for name in service.fields},
    }
    return (
        "/persons/{id_number}",
        "get",
        {
            "summary": service.name,
            "parameters": [
                {
                    "name": "id_number",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]{12}$"},
                },
                {"name": "service", "in": "query", "schema": {"const": service.code}},
                {
                    "name": "fields",
                    "in": "query",
                    "description": "comma-separated subset of the granted fields",
                    "schema": {"type": "string"},
                },
                purpose,
            ],
            "responses": {
                "200": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "service": {"const": service.code},
                                    "purpose": {"type": "string"},
                                    "fields": {"type": "array", "items": {"type": "string"}},
                                    "person": person,
                                },
                            }
                        }
                    }
                },
                **errors,
            },
        },
    )


def service_openapi(service: DataService, *, base_url: str) -> dict[str, Any]:
    purposes = list(service.purposes.order_by("code"))
    path, method, operation = _operation(service, [p.code for p in purposes])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"congdan data service {service.code}",
            "version": "1",
            "description": service.description,
            "x-purposes": [
                {
                    "code": p.code,
                    "name": p.name,
                    "legal_basis": p.legal_basis,
                    "requires_consent": p.requires_consent,
                }
                for p in purposes
            ],
            "x-fields": list(service.fields),
        },
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {
                "memberToken": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/o/token/",
                            "scopes": {"exchange:query": "member data services"},
                        }
                    },
                }
            }
        },
        "security": [{"memberToken": ["exchange:query"]}],
        "paths": {path: {method: operation}},
    }

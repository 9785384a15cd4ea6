"""Post-processing of the OpenAPI schema (drf-spectacular's POSTPROCESSING_HOOKS)."""

from __future__ import annotations

# Fields the API leaves out for supplier users (the buyer's secrets, DESIGN section 7):
# in the responses they are optional, whatever the serializer's read-only rule says.
WITHHELD_FROM_SUPPLIER_USERS = ("fingerprint", "leak_fingerprint")
NOTE = " Absent for supplier users: the watermark fingerprint is the buyer's secret."


def optional_secrets(result, generator, request, public):
    for component in result.get("components", {}).get("schemas", {}).values():
        properties = component.get("properties", {})
        for name in WITHHELD_FROM_SUPPLIER_USERS:
            if name in properties and name in component.get("required", []):
                component["required"].remove(name)
                if not component["required"]:
                    del component["required"]
                properties[name]["description"] = (
                    properties[name].get("description", "") + NOTE
                ).strip()
    return result


def empty_query_values(result, generator, request, public):
    """An optional query parameter sent empty (`?status=&supplier=`, as a browser's filter
    form sends it) is the parameter left out, as django-filter and the paginators read it:
    the schema says so with allowEmptyValue."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result

"""Validates FHIR R4 (4.0.1) resources against the models of fhir.resources 6.2.2.

Reads a JSON array of resources from the file given, validates each with the model of its
resourceType (and a Bundle's entries with theirs), and exits non-zero naming every failure.
Run by the API tests (tests/api/fhir.rs) with the virtual environment .ci/run prepares.
"""
import json
import sys

from fhir.resources import get_fhir_model_class

failures = []
kinds = set()
for resource in json.load(open(sys.argv[1], encoding="utf-8")):
    kind = resource.get("resourceType")
    try:
        get_fhir_model_class(kind).parse_obj(resource)
        kinds.add(kind)
    except Exception as error:  # the model names what is wrong
        failures.append(f"{kind}/{resource.get('id')}: {error}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("valid:", ", ".join(sorted(kinds)))

"""A FHIR client nobody at yijia wrote (fhirpy) against the running server: counts a patient's
observations with `.count()` (Bundle.total via _summary=count), fetches them all page by page
(following `next` links), reads the patient and searches it by identifier.
Arguments: FHIR base URL, bearer token, patient id, ID number. Prints JSON."""
import json
import sys

from fhirpy import SyncFHIRClient

base, token, patient, id_number = sys.argv[1:5]
client = SyncFHIRClient(base, authorization=f"Bearer {token}")
search = client.resources("Observation").search(patient=patient)
count = search.count()
fetched = search.limit(2).fetch_all()
found = client.resources("Patient").search(
    identifier=f"urn:yijia:sid:resident-id-number|{id_number}"
).fetch()
person = client.reference("Patient", patient).to_resource()
print(json.dumps({
    "count": count,
    "fetched": len(fetched),
    "ids": sorted(o["id"] for o in fetched),
    "found": [p["id"] for p in found],
    "patient": person["id"],
    "version": person["meta"]["versionId"],
}))

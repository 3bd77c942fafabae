"""DICOMweb throughput, the same workload against each server given: STOW-RS instances per
second (ten per request) while filling the archive with `studies` one-instance CT studies over
the given patients, then QIDO-RS study searches per second (by Patient ID, in the full archive)
and instance searches in a study; for yijia also the rendering time of a 512×512 CT frame (p50
/ p99 over 200 requests).

The STOW-RS bodies are encoded once, before any clock runs, and sent as they are to every
server: encoding a CT instance with pydicom takes longer (about 3 ms) than a server takes to
store it, so a client that encoded as it sent would measure itself. The searches go through
dicomweb-client.

argv: shared_dicom_dir studies patients_file NAME=BASE_URL[,STORE_TOKEN[,SEARCH_TOKEN]] ...
"""
import io
import statistics
import sys
import time
from pathlib import Path

import numpy
import pydicom
import requests
from pydicom.uid import generate_uid
from dicomweb_client.api import DICOMwebClient

shared, studies, patients_file = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
servers = [arg.split("=", 1) for arg in sys.argv[4:]]
patients = [line.strip() for line in open(patients_file) if line.strip()]

template = pydicom.dcmread(shared / "CT_small.dcm")
BOUNDARY = "yijia-bench-boundary"


def encoded(dataset):
    out = io.BytesIO()
    pydicom.dcmwrite(out, dataset, enforce_file_format=True)
    return out.getvalue()


def ct(patient, study, series, number):
    """The template with a new patient, study, series and instance (changed in place)."""
    template.PatientID = patient
    template.StudyInstanceUID = study
    template.SeriesInstanceUID = series
    template.SOPInstanceUID = generate_uid()
    template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
    template.InstanceNumber = number
    return template


def multipart(files):
    body = bytearray()
    for content in files:
        body += f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        body += content + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return bytes(body)


def large_ct(patient):
    """A 512×512 CT slice: CT_small scaled up four times."""
    pixels = numpy.kron(template.pixel_array, numpy.ones((4, 4), dtype=template.pixel_array.dtype))
    dataset = pydicom.dcmread(shared / "CT_small.dcm")
    dataset.PatientID = patient
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = generate_uid(), generate_uid()
    dataset.SOPInstanceUID = generate_uid()
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.Rows, dataset.Columns = pixels.shape
    dataset.PixelData = pixels.tobytes()
    return dataset


plan = [(patients[n % len(patients)], generate_uid(), generate_uid()) for n in range(studies)]
bodies = [multipart([encoded(ct(p, s, r, 1)) for p, s, r in plan[at:at + 10]])
          for at in range(0, studies, 10)]
stow_type = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'

for name, address in servers:
    base, *tokens = address.split(",")
    bearer = lambda token: {"Authorization": f"Bearer {token}"} if token else {}
    store_headers = {**bearer(tokens[0] if tokens else None), "Content-Type": stow_type,
                     "Accept": "application/dicom+json"}
    headers = bearer(tokens[-1] if tokens else None)
    client = DICOMwebClient(base, headers=headers)
    session = requests.Session()
    started = time.perf_counter()
    for body in bodies:
        response = session.post(f"{base}/studies", data=body, headers=store_headers)
        assert response.status_code == 200, f"{name}: STOW {response.status_code} {response.text[:300]}"
    stow = studies / (time.perf_counter() - started)

    queries = 300
    started = time.perf_counter()
    for n in range(queries):
        found = client.search_for_studies(search_filters={"PatientID": patients[n % len(patients)]})
        assert found, f"{name}: nothing found"
    qido_studies = queries / (time.perf_counter() - started)
    started = time.perf_counter()
    for n in range(queries):
        client.search_for_instances(plan[n % len(plan)][1])
    qido_instances = queries / (time.perf_counter() - started)
    print(f"{name}: STOW-RS {stow:.0f} instances/s ({studies} one-instance CT studies, 10 per request); "
          f"QIDO-RS {qido_studies:.0f} study searches/s by Patient ID with {studies} studies stored, "
          f"{qido_instances:.0f} instance searches/s in a study")

    if name == "yijia":
        big = large_ct(patients[0])
        DICOMwebClient(base, headers=bearer(tokens[0])).store_instances([big])
        url = (f"{base}/studies/{big.StudyInstanceUID}/series/{big.SeriesInstanceUID}"
               f"/instances/{big.SOPInstanceUID}/frames/1/rendered")
        times = []
        for _ in range(200):
            started = time.perf_counter()
            response = session.get(url, headers={**headers, "Accept": "image/png"})
            assert response.status_code == 200, response.text
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        print(f"{name}: rendered 512×512 CT frame (PNG) p50 {statistics.median(times):.1f} ms, "
              f"p99 {p99:.1f} ms (200 requests)")

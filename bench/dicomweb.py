"""DICOMweb throughput with dicomweb-client: STOW-RS instances per second (ten per request)
and QIDO-RS queries per second (study search by Patient ID; instance search in a study).

argv: base_url site_token reader_token id_number shared_dicom_dir [instances]
"""
import io
import sys
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid
from dicomweb_client.api import DICOMwebClient

base, site_token, reader_token, id_number, shared = sys.argv[1:6]
count = int(sys.argv[6]) if len(sys.argv) > 6 else 500
site = DICOMwebClient(base, headers={"Authorization": f"Bearer {site_token}"})
reader = DICOMwebClient(base, headers={"Authorization": f"Bearer {reader_token}"})

template = pydicom.dcmread(Path(shared) / "CT_small.dcm")
studies = [generate_uid() for _ in range(10)]
series = [generate_uid() for _ in studies]
datasets = []
for n in range(count):
    dataset = template.copy()
    dataset.PatientID = id_number
    dataset.StudyInstanceUID = studies[n % len(studies)]
    dataset.SeriesInstanceUID = series[n % len(studies)]
    dataset.SOPInstanceUID = generate_uid()
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.InstanceNumber = n + 1
    datasets.append(dataset)

started = time.perf_counter()
for at in range(0, count, 10):
    site.store_instances(datasets[at:at + 10])
stow = count / (time.perf_counter() - started)

queries = 200
started = time.perf_counter()
for _ in range(queries):
    reader.search_for_studies(search_filters={"PatientID": id_number})
qido_studies = queries / (time.perf_counter() - started)
started = time.perf_counter()
for n in range(queries):
    reader.search_for_instances(studies[n % len(studies)])
qido_instances = queries / (time.perf_counter() - started)
print(f"STOW-RS: {stow:.0f} instances/s ({count} CT instances, 10 per request)")
print(f"QIDO-RS: {qido_studies:.0f} study searches/s, {qido_instances:.0f} instance searches/s "
      f"({queries} each; {count // len(studies)} instances per study)")

"""Stores, searches and retrieves through yijia's DICOMweb with dicomweb-client, a client
nobody here wrote. Prints what it found as JSON; the Rust test asserts on it.

argv: base_url site_token reader_token id_number shared_dicom_dir resident_name
"""
import io
import json
import sys
from pathlib import Path

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient

base, site_token, reader_token, id_number, shared, name = sys.argv[1:7]
shared = Path(shared)


def as_resident(path):
    """The file with the resident's ID number as Patient ID, in its own transfer syntax."""
    dataset = pydicom.dcmread(path)
    dataset.PatientID = id_number
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(out.getvalue())), out.getvalue()


site = DICOMwebClient(base, headers={"Authorization": f"Bearer {site_token}"})
reader = DICOMwebClient(base, headers={"Authorization": f"Bearer {reader_token}"})
result = {}

mr_names = ["MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
            "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"]
mr = [as_resident(shared / name) for name in mr_names]
stored = site.store_instances([d for d, _ in mr])
result["mr_referenced"] = len(stored.get("ReferencedSOPSequence", []))
result["mr_failed"] = len(stored.get("FailedSOPSequence", []))

series_files = sorted((shared / "series-ct5n").iterdir()) + sorted((shared / "series-ct2n").iterdir())
series = [as_resident(path) for path in series_files]
stored = site.store_instances([d for d, _ in series])
result["series_referenced"] = len(stored.get("ReferencedSOPSequence", []))
study_uid = series[0][0].StudyInstanceUID
result["series_study_uids"] = sorted({str(d.StudyInstanceUID) for d, _ in series})

# A truncated file, sent raw: refused with a failure reason, nothing stored.
truncated = (shared / "MR_truncated.dcm").read_bytes()
boundary = "truncated-boundary"
body = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + truncated
        + f"\r\n--{boundary}--\r\n".encode())
response = requests.post(f"{base}/studies", data=body, headers={
    "Authorization": f"Bearer {site_token}",
    "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'})
result["truncated_status"] = response.status_code
failed = pydicom.Dataset.from_json(response.json()).get("FailedSOPSequence", [])
result["truncated_reasons"] = [int(item.FailureReason) for item in failed]

result["studies"] = len(reader.search_for_studies())
found = reader.search_for_studies(search_filters={"PatientID": id_number})
result["by_patient"] = len(found)
result["study_instances"] = {
    str(pydicom.Dataset.from_json(s).StudyInstanceUID):
        int(pydicom.Dataset.from_json(s).NumberOfStudyRelatedInstances) for s in found}
mine = {"PatientID": id_number}
result["by_name"] = len(reader.search_for_studies(search_filters={**mine, "PatientName": name}))
result["by_name_wildcard"] = len(reader.search_for_studies(
    search_filters={**mine, "PatientName": name[0] + "*"}))
result["by_name_one_char"] = len(reader.search_for_studies(
    search_filters={**mine, "PatientName": name[0] + "?" * (len(name) - 1)}))
result["by_name_fuzzy"] = len(reader.search_for_studies(
    fuzzymatching=True, search_filters={**mine, "PatientName": name[1:]}))
result["by_other_name"] = len(reader.search_for_studies(
    search_filters={**mine, "PatientName": "无此人*"}))
result["by_modalities"] = len(reader.search_for_studies(
    search_filters={**mine, "ModalitiesInStudy": ["CT", "US"]}))
result["paged"] = len(reader.search_for_studies(limit=1, offset=1, search_filters=mine))
result["with_fields"] = len(reader.search_for_studies(
    fields=["StudyDescription", "00081030"], search_filters=mine))
result["ct_instances_by_patient"] = len(reader.search_for_instances(
    search_filters={**mine, "Modality": "CT"}))
result["series_in_study"] = len(reader.search_for_series(study_uid))
result["instances_per_series"] = sorted(
    len(reader.search_for_instances(study_uid, str(pydicom.Dataset.from_json(s).SeriesInstanceUID)))
    for s in reader.search_for_series(study_uid))

# Retrieve: parsed by pydicom, and the raw parts byte for byte.
first, first_bytes = series[0]
instance = reader.retrieve_instance(study_uid, first.SeriesInstanceUID, first.SOPInstanceUID)
result["retrieved_uid_matches"] = instance.SOPInstanceUID == first.SOPInstanceUID
result["retrieved_pixels_match"] = instance.PixelData == first.PixelData
raw = requests.get(
    f"{base}/studies/{study_uid}/series/{first.SeriesInstanceUID}/instances/{first.SOPInstanceUID}",
    headers={"Authorization": f"Bearer {reader_token}",
             "Accept": 'multipart/related; type="application/dicom"'})
content_type = raw.headers["Content-Type"]
raw_boundary = content_type.split("boundary=")[1].strip('"')
parts = raw.content.split(f"--{raw_boundary}".encode())
payload = parts[1].split(b"\r\n\r\n", 1)[1][:-2]
result["byte_for_byte"] = payload == first_bytes
whole_study = list(reader.retrieve_study(study_uid))
result["study_retrieved"] = len(whole_study)
mr_uid = mr[0][0].StudyInstanceUID
mr_instance = reader.retrieve_instance(mr_uid, mr[0][0].SeriesInstanceUID, mr[0][0].SOPInstanceUID)
result["mr_first_kept"] = mr_instance.file_meta.TransferSyntaxUID == mr[0][0].file_meta.TransferSyntaxUID

metadata = reader.retrieve_study_metadata(study_uid)
result["metadata"] = len(metadata)
one = pydicom.Dataset.from_json(reader.retrieve_instance_metadata(
    study_uid, str(first.SeriesInstanceUID), str(first.SOPInstanceUID)))
result["metadata_uid_matches"] = one.SOPInstanceUID == first.SOPInstanceUID
raw_metadata = reader.retrieve_instance_metadata(
    study_uid, str(first.SeriesInstanceUID), str(first.SOPInstanceUID))
result["metadata_pixels_by_uri"] = sorted(raw_metadata["7FE00010"])

# Rendered: JPEG on request, PNG frames, a viewport; thumbnails of study, series and instance.
uids = (study_uid, str(first.SeriesInstanceUID), str(first.SOPInstanceUID))
# Frames as native pixel data, and the metadata's BulkDataURI for them.
frames = reader.retrieve_instance_frames(*uids, frame_numbers=[1],
                                         media_types=("application/octet-stream",))
result["frame_is_pixel_data"] = frames[0] == first.PixelData
bulk = reader.retrieve_bulkdata(raw_metadata["7FE00010"]["BulkDataURI"],
                                media_types=("application/octet-stream",))
result["bulkdata_is_pixel_data"] = b"".join(bulk) == first.PixelData
no_frame = requests.get(f"{base}/studies/{uids[0]}/series/{uids[1]}/instances/{uids[2]}/frames/9",
                        headers={"Authorization": f"Bearer {reader_token}"})
result["no_such_frame"] = no_frame.status_code
jpeg = reader.retrieve_instance_rendered(*uids, media_types=("image/jpeg",))
result["rendered_jpeg"] = jpeg[:2] == b"\xff\xd8"
png = reader.retrieve_instance_frames_rendered(*uids, [1], media_types=("image/png",),
                                               params={"viewport": "8,8"})
result["rendered_png_size"] = [int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")]
auth = {"Authorization": f"Bearer {reader_token}", "Accept": "image/jpeg"}
result["thumbnails"] = [
    (lambda r: [r.status_code, r.headers.get("Content-Type"), r.content[:2] == b"\xff\xd8"])(
        requests.get(f"{base}/studies/{path}/thumbnail", headers=auth))
    for path in [uids[0], f"{uids[0]}/series/{uids[1]}", f"{uids[0]}/series/{uids[1]}/instances/{uids[2]}"]]

print(json.dumps(result))

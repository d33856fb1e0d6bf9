"""Writes one DICOM file with pydicom (Debian's python3-pydicom), an independent writer for the reader's tests.

Usage: write_dicom.py SPEC.json OUT.dcm. The spec (written by DicomFixtures.java) gives the pixel values (a raw file of
little-endian int32, frames x rows x columns [x 3 for RGB]), the technical attributes and, optionally, the
patient-identifying attributes with their values (also inside a nested sequence and a private tag).
"""
import json
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian, MRImageStorage

spec = json.load(open(sys.argv[1]))
rows, cols, frames = spec["rows"], spec["columns"], spec["frames"]
samples = 3 if spec["photometric"] == "RGB" else 1
raw = np.fromfile(spec["pixels"], dtype="<i4").reshape((frames, rows, cols, samples) if samples == 3
                                                          else (frames, rows, cols))
syntax = {"implicit": ImplicitVRLittleEndian, "explicit": ExplicitVRLittleEndian,
          "big": ExplicitVRBigEndian}[spec["syntax"]]

meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = MRImageStorage
meta.MediaStorageSOPInstanceUID = spec["sop"]
meta.TransferSyntaxUID = syntax
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID = MRImageStorage
ds.SOPInstanceUID = spec["sop"]
ds.Modality = "MR"
ds.StudyInstanceUID = spec["study"]
ds.SeriesInstanceUID = spec["series"]
ds.FrameOfReferenceUID = spec["frame_of_reference"]
for keyword, value in spec.get("phi", {}).items():
    setattr(ds, keyword, value)
if spec.get("phi"):
    # The same values inside a sequence item and in a private tag: nested and private values must be skipped too.
    item = Dataset()
    item.PatientName = spec["phi"]["PatientName"]
    item.AccessionNumber = spec["phi"]["AccessionNumber"]
    ds.RequestAttributesSequence = Sequence([item])
    block = ds.private_block(0x0029, "DIFFXAI TEST", create=True)
    block.add_new(0x10, "LO", spec["phi"]["PatientID"])
ds.InstanceNumber = spec["instance"]
if spec.get("position") is not None:
    ds.ImagePositionPatient = spec["position"]
    ds.ImageOrientationPatient = spec["orientation"]
ds.Rows, ds.Columns = rows, cols
ds.SamplesPerPixel = samples
ds.PhotometricInterpretation = spec["photometric"]
if samples == 3:
    ds.PlanarConfiguration = 0
bits = spec["bits_allocated"]
ds.BitsAllocated = bits
ds.BitsStored = spec["bits_stored"]
ds.HighBit = spec["bits_stored"] - 1
ds.PixelRepresentation = 1 if spec["signed"] else 0
if frames > 1:
    ds.NumberOfFrames = frames
if spec.get("slope") is not None:
    ds.RescaleSlope = spec["slope"]
if spec.get("intercept") is not None:
    ds.RescaleIntercept = spec["intercept"]
dtype = {8: "u1", 16: "u2"}[bits] if not spec["signed"] else {8: "i1", 16: "i2"}[bits]
order = ">" if spec["syntax"] == "big" else "<"
ds.PixelData = raw.astype(order + dtype).tobytes()
ds.is_little_endian = spec["syntax"] != "big"
ds.is_implicit_VR = spec["syntax"] == "implicit"
ds.save_as(sys.argv[2], write_like_original=False)

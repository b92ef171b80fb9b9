"""tritonlock: pin every input of an NVIDIA Triton Inference Server source build."""

__version__ = "0.1.0"

// Reading and writing safetensors checkpoints.

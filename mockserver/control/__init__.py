"""The /__mock/ control plane: scenarios, reset, clock, request journal and datasets."""

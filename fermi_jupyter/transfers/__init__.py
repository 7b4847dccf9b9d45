"""Data in and out of volumes: Git, Hugging Face and S3 transfers.

This package holds what runs *inside* a transfer (the engines, the staging folder, the child
process entry point ``python -m fermi_jupyter.transfers.run``) and the pure rules shared with the
registry (request validation, allow-lists, Kubernetes Job manifests). It imports nothing from the
registry, so the same code runs in a registry child process and in a Kubernetes Job.
"""

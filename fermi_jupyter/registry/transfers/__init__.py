"""The registry's side of transfers: records, the job kind that runs attempts as child
processes, the REST manager. The engines themselves live in :mod:`fermi_jupyter.transfers`."""

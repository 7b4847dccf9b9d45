"""Dev environments with storage mounts: the mount plan, profiles, and the Kubernetes pod."""

"""Which binaries to compute next: Gaussian-process ranking, clustering, batch selection, the plan."""

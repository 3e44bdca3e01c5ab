"""The Pulumi layer, the only one that imports ``pulumi`` and ``pulumi_kubernetes``: the
component, the stack program, the verification resource and the Kubernetes provider."""

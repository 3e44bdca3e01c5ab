"""The labels this module puts on what it creates: project-planton's and Pod Security's."""

# project-planton's resource labels.
LABEL_RESOURCE = "planton.ai/resource"
LABEL_NAME = "planton.ai/name"
LABEL_KIND = "planton.ai/kind"
LABEL_ID = "planton.ai/id"
LABEL_ORGANIZATION = "planton.ai/organization"
LABEL_ENVIRONMENT = "planton.ai/environment"
# Pod Security Admission namespace labels.
# https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
POD_SECURITY_MODES = ("enforce", "audit", "warn")
POD_SECURITY_LABEL = "pod-security.kubernetes.io/{mode}"

"""Where the state of stacks deployed so far names the verification's dynamic provider.

Pulumi stores a dynamic resource's provider pickled by reference to its module
(``percona_pg_operator.verification.VerificationProvider``) and loads it from there to refresh or
delete the resource; the resource itself is ``deploy/verification.py``.
"""

from .deploy.verification import OperatorVerification, VerificationProvider

__all__ = ["OperatorVerification", "VerificationProvider"]

"""The Lambda side of the bank: the composition root and the AWS adapters of the domain's ports."""

"""The bank's domain core: payment notifications, their signature, and the wallet ledger.

Pure Python. Nothing here imports boto3, Flask or Chalice: the same code runs in the monolith
(step 0) and on Lambda (step 1 onwards). That is the talk's point.
"""

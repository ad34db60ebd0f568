"""Where shared files and conference materials are kept, and how an upload is received.

`storage` (the interface and the local-disk store), `s3` (an S3-compatible store over aioboto3),
`upload` (a multipart body streamed to a staging file with python-multipart, within a size check),
`settings` (the operator's choices: directory, size limit, S3 bucket).
"""

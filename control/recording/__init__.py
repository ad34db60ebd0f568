"""Recording a meeting: the recorder that writes WebM files from the RTP a worker sends it."""

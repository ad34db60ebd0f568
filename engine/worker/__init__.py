"""The engine worker process: `TableExecutor` applies the control plane's typed table operations to
an engine (`executor`), `EngineChannel` keeps the connection to the control plane (`client`), and
`python -m engine.worker` runs one (`__main__`)."""

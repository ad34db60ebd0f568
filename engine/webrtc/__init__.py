"""The slow path of WebRTC transports: ICE-lite (ice), DTLS-SRTP (dtls) and the driver that ties
them to the engine's socket and forwarding table (transport)."""

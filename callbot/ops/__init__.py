"""Running the gateway: Prometheus metrics across its processes, live calls, the recorder that writes a
call record when a SIP call ends, and the HTTP side of `callbot serve` (health, JSON API, ops page)."""

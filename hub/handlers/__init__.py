"""FastStream subscribers: thin. Typed entries in, a service call, an ack. No legal logic."""

"""Turn delivery shared by every channel: store before acknowledging, leases instead of held connections,
the platform's order, takeover of a dead replica's work, visible backpressure. See `dispatcher`."""

from assistant.delivery.dispatcher import AcceptResult, Delivery, replica_id
from assistant.delivery.inbox import Accepted, Inbox, Owed
from assistant.delivery.leases import Leases

__all__ = ["AcceptResult", "Accepted", "Delivery", "Inbox", "Leases", "Owed", "replica_id"]

"""Messages in and out: the inbox, the durable outbox and its courier, who is told what (notify), the spool, hand-overs and the channel senders."""

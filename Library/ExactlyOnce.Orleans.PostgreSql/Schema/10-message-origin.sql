-- Where a message kept outside the receiver's state came from: the W3C traceparent of the span that
-- committed or sent it, and when. A parked message applied later continues its own trace and is
-- measured from its own send; a dead letter keeps them so a replay can continue its trace. NULL in
-- rows stored before this script (and for messages sent without them): such a row still works.

ALTER TABLE IF EXISTS ExactlyOnceParkedMessage ADD COLUMN IF NOT EXISTS TraceParent text NULL;
ALTER TABLE IF EXISTS ExactlyOnceParkedMessage ADD COLUMN IF NOT EXISTS SentOn timestamptz NULL;
ALTER TABLE IF EXISTS ExactlyOnceDeadLetter ADD COLUMN IF NOT EXISTS TraceParent text NULL;
ALTER TABLE IF EXISTS ExactlyOnceDeadLetter ADD COLUMN IF NOT EXISTS SentOn timestamptz NULL;

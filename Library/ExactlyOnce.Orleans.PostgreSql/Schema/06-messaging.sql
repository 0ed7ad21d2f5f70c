-- Tables of the exactly-once messaging core (not used by Orleans itself).
--   ExactlyOnceRejectedMessage: invalid messages refused before processing (the core's dead
--     letters for messages it cannot process at all, next to the stream provider's
--     OrleansStreamDeadLetter for poison messages and ExactlyOnceDeadLetter of 08-producers.sql).

CREATE TABLE IF NOT EXISTS ExactlyOnceRejectedMessage
(
    Id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ServiceId       text        NOT NULL,
    Component       text        NOT NULL,
    StreamNamespace text        NOT NULL,
    StreamKey       text        NOT NULL,
    MessageId       uuid        NULL,
    MessageType     text        NOT NULL,
    Reason          text        NOT NULL,
    Payload         text        NOT NULL,
    -- Redelivery of the same invalid message must not add a second row.
    Fingerprint     text        NOT NULL,
    RejectedOn      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ExactlyOnceRejectedMessage_Unique UNIQUE (ServiceId, StreamNamespace, StreamKey, Fingerprint)
);

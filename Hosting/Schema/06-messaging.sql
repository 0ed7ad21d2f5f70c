-- Tables of the exactly-once messaging core (not used by Orleans itself).
--   ExactlyOnceRejectedMessage: invalid messages refused before processing (this project's dead
--     letters, next to the stream provider's OrleansStreamDeadLetter for poison messages).
--   ExactlyOnceSentMessage: an audit row for every copy a component published (re-sends too),
--     so a verifier can check that every copy of an id carries the same payload.

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

CREATE TABLE IF NOT EXISTS ExactlyOnceSentMessage
(
    Id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ServiceId       text        NOT NULL,
    Component       text        NOT NULL,
    MessageId       uuid        NOT NULL,
    StreamNamespace text        NOT NULL,
    StreamKey       text        NOT NULL,
    MessageType     text        NOT NULL,
    Payload         text        NOT NULL,
    SentOn          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ExactlyOnceSentMessage_ByStream
    ON ExactlyOnceSentMessage (ServiceId, StreamNamespace, StreamKey);

CREATE INDEX IF NOT EXISTS ExactlyOnceSentMessage_ByMessage
    ON ExactlyOnceSentMessage (ServiceId, MessageId);

-- Serves the purge of rows past Messaging:SentRetention, oldest first (ids rise with SentOn).
CREATE INDEX IF NOT EXISTS ExactlyOnceSentMessage_ById
    ON ExactlyOnceSentMessage (ServiceId, Id);

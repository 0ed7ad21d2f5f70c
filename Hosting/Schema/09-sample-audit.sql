-- The sample's send audit (not part of the library): a row for every copy a component published
-- (re-sends too), so the verifier can check that every copy of an id carries the same payload;
-- and the producer a load run recorded its messages under, so 'resend --run' finds them.
-- (Until version 0.3 these lived in 06-messaging.sql and 08-producers.sql; every statement here is
-- idempotent, so a database created by those runs this as a no-op.)

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

ALTER TABLE IF EXISTS ExactlyOnceRun ADD COLUMN IF NOT EXISTS ProducerId text NULL;

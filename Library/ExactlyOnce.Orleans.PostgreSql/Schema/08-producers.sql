-- Producers and sequences of the exactly-once core (version 2: per-producer sequence numbers).
--   ExactlyOnceProducerIncarnation: one counter for every producer incarnation (grains, runs,
--     named clients). A producer whose state or record is created anew gets a new number, so it is
--     a new producer and never restarts at sequence 1 under an id a receiver already knows.
--   ExactlyOnceProducer: client-side producers (a load run, a named sender such as 'cli').
--   ExactlyOnceProducerStream: the counter row per (producer, destination stream); a sequence is
--     taken under its row lock, in the transaction that records the message.
--   ExactlyOnceClientMessage: the client outbox. Every client message is recorded here, with its
--     sequence and payload, before it is published; the silos' sweeper publishes the ones left
--     unconfirmed, so a client that dies between recording and publishing leaves no gap.
--   ExactlyOnceParkedMessage: early arrivals that did not fit in a receiver's hold-back buffer.
--     Rows never expire; they leave once the receiver holds or applied them.

CREATE SEQUENCE IF NOT EXISTS ExactlyOnceProducerIncarnation AS bigint START WITH 1;

CREATE TABLE IF NOT EXISTS ExactlyOnceProducer
(
    ServiceId   text        NOT NULL,
    Kind        text        NOT NULL,
    Name        text        NOT NULL,
    Incarnation bigint      NOT NULL,
    ProducerId  text        NOT NULL,
    Sealed      boolean     NOT NULL DEFAULT false,
    CreatedOn   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ServiceId, Kind, Name),
    CONSTRAINT ExactlyOnceProducer_Id UNIQUE (ServiceId, ProducerId)
);

CREATE TABLE IF NOT EXISTS ExactlyOnceProducerStream
(
    ServiceId       text   NOT NULL,
    ProducerId      text   NOT NULL,
    StreamNamespace text   NOT NULL,
    StreamKey       text   NOT NULL,
    LastSequence    bigint NOT NULL,
    PRIMARY KEY (ServiceId, ProducerId, StreamNamespace, StreamKey)
);

CREATE TABLE IF NOT EXISTS ExactlyOnceClientMessage
(
    ServiceId       text        NOT NULL,
    ProducerId      text        NOT NULL,
    StreamNamespace text        NOT NULL,
    StreamKey       text        NOT NULL,
    Sequence        bigint      NOT NULL,
    MessageId       uuid        NOT NULL,
    MessageType     text        NOT NULL,
    Payload         bytea       NOT NULL,
    RecordedOn      timestamptz NOT NULL DEFAULT now(),
    -- Set once a publish of this record was confirmed by the stream; NULL rows are the sweeper's.
    PublishedOn     timestamptz NULL,
    PRIMARY KEY (ServiceId, ProducerId, StreamNamespace, StreamKey, Sequence),
    CONSTRAINT ExactlyOnceClientMessage_Id UNIQUE (ServiceId, MessageId)
);

CREATE INDEX IF NOT EXISTS ExactlyOnceClientMessage_Unpublished
    ON ExactlyOnceClientMessage (ServiceId, RecordedOn) WHERE PublishedOn IS NULL;

CREATE TABLE IF NOT EXISTS ExactlyOnceParkedMessage
(
    ServiceId   text        NOT NULL,
    Receiver    text        NOT NULL,
    ProducerId  text        NOT NULL,
    Sequence    bigint      NOT NULL,
    MessageId   uuid        NOT NULL,
    Payload     bytea       NOT NULL,
    ParkedOn    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ServiceId, Receiver, ProducerId, Sequence)
);

-- Sequenced messages a receiver gave up on (a held message whose handler kept failing). The
-- receiver's mark stays just below it, so its producer's later messages wait: 'dead-letters replay'
-- publishes it again (applied once, whenever), 'dead-letters discard' fills its position with a
-- tombstone. Rows are kept after a replay (ReplayedOn), so a second replay is a harmless duplicate.
CREATE TABLE IF NOT EXISTS ExactlyOnceDeadLetter
(
    Id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ServiceId       text        NOT NULL,
    Component       text        NOT NULL,
    StreamNamespace text        NOT NULL,
    StreamKey       text        NOT NULL,
    ProducerId      text        NOT NULL,
    Sequence        bigint      NOT NULL,
    MessageId       uuid        NOT NULL,
    MessageType     text        NOT NULL,
    Payload         bytea       NOT NULL,
    PayloadJson     text        NOT NULL,
    Failures        integer     NOT NULL,
    Reason          text        NOT NULL,
    DeadOn          timestamptz NOT NULL DEFAULT now(),
    ReplayedOn      timestamptz NULL,
    DiscardedOn     timestamptz NULL,
    CONSTRAINT ExactlyOnceDeadLetter_Position UNIQUE (ServiceId, StreamNamespace, StreamKey, ProducerId, Sequence)
);

-- When the message first and last failed (the recoverability policy's record).
ALTER TABLE IF EXISTS ExactlyOnceDeadLetter ADD COLUMN IF NOT EXISTS FirstFailureOn timestamptz NULL;
ALTER TABLE IF EXISTS ExactlyOnceDeadLetter ADD COLUMN IF NOT EXISTS LastFailureOn timestamptz NULL;

-- The run-retirement watermark: every run producer with an incarnation at or below it is sealed
-- and complete (each destination's receiver applied through its last sequence), so receivers may
-- drop its entry and treat any later copy as a duplicate. It only moves up.
CREATE TABLE IF NOT EXISTS ExactlyOnceRetirement
(
    ServiceId     text        NOT NULL PRIMARY KEY,
    RunWatermark  bigint      NOT NULL,
    ModifiedOn    timestamptz NOT NULL DEFAULT now()
);

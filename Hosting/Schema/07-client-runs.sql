-- Workload runs recorded by the client's 'load' command, so that 'verify' can check them later,
-- from another process: every message id sent, its content and how many copies were published.

CREATE TABLE IF NOT EXISTS ExactlyOnceRun
(
    ServiceId   text             NOT NULL,
    Name        text             NOT NULL,
    Mode        text             NOT NULL,
    Orders      integer          NOT NULL,
    Items       integer          NOT NULL,
    Duplicates  double precision NOT NULL,
    CreatedOn   timestamptz      NOT NULL DEFAULT now(),
    CompletedOn timestamptz      NULL,
    PRIMARY KEY (ServiceId, Name)
);

CREATE TABLE IF NOT EXISTS ExactlyOnceRunMessage
(
    ServiceId   text    NOT NULL,
    Run         text    NOT NULL,
    Seq         integer NOT NULL,
    MessageId   uuid    NOT NULL,
    OrderId     text    NOT NULL,
    Kind        text    NOT NULL,
    Filling     text    NOT NULL,
    -- Copies published with this id (1 + re-sends); written before publishing, so a crash of the
    -- client never leaves a published message unrecorded.
    Copies      integer NOT NULL,
    PRIMARY KEY (ServiceId, Run, Seq),
    FOREIGN KEY (ServiceId, Run) REFERENCES ExactlyOnceRun (ServiceId, Name) ON DELETE CASCADE
);

-- 05-streaming.sql
-- Durable stream queues for Microsoft.Orleans.Streaming.AdoNet (10.4.2-alpha.1): the live
-- message table, the dead-letter table, a per-queue eviction-control table, the functions behind
-- dequeue, confirm/release, fail and eviction, and the six streaming keys of the OrleansQuery
-- catalog.
-- Safe to run any number of times. Requires 01-catalog.sql.
--
-- Every "now" is the database clock (now(), the start of the single implicit transaction of
-- each provider call); the provider never sends a time. All times are timestamptz, so ExpiresOn
-- reaches the silo as UTC. Result types are strict: MessageId bigint, Dequeued integer, ids
-- text, Payload bytea.

-- Live messages. MessageId comes from an identity column: globally unique and increasing in
-- enqueue order, which is the delivery order the provider uses.
CREATE TABLE IF NOT EXISTS OrleansStreamMessage
(
    ServiceId  text        NOT NULL,
    ProviderId text        NOT NULL,
    QueueId    text        NOT NULL,
    MessageId  bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
    Dequeued   integer     NOT NULL DEFAULT 0,  -- the receipt: raised by each dequeue
    VisibleOn  timestamptz NOT NULL,
    ExpiresOn  timestamptz NOT NULL,
    CreatedOn  timestamptz NOT NULL,
    ModifiedOn timestamptz NOT NULL,
    Payload    bytea       NOT NULL,
    -- Serves dequeue (one queue, lowest MessageId first) and the per-message lookups.
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

-- Messages that used up MaxAttempts or expired. Orleans never reads this table; it is kept for
-- operators (diagnosis, replay) until RemoveOn, with the same key as the live table.
CREATE TABLE IF NOT EXISTS OrleansStreamDeadLetter
(
    ServiceId  text        NOT NULL,
    ProviderId text        NOT NULL,
    QueueId    text        NOT NULL,
    MessageId  bigint      NOT NULL,
    Dequeued   integer     NOT NULL,
    VisibleOn  timestamptz NOT NULL,
    ExpiresOn  timestamptz NOT NULL,
    CreatedOn  timestamptz NOT NULL,
    ModifiedOn timestamptz NOT NULL,
    DeadOn     timestamptz NOT NULL,
    RemoveOn   timestamptz NOT NULL,
    Payload    bytea       NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

-- Serves the purge of dead letters whose RemoveOn has passed.
CREATE INDEX IF NOT EXISTS OrleansStreamDeadLetter_RemoveOn
    ON OrleansStreamDeadLetter (ServiceId, ProviderId, QueueId, RemoveOn);

-- One row per queue: when its next housekeeping pass is due. The provider never calls the evict
-- keys, so dequeue does the housekeeping, and this row lets exactly one caller per
-- EvictionInterval win it.
CREATE TABLE IF NOT EXISTS OrleansStreamEviction
(
    ServiceId      text        NOT NULL,
    ProviderId     text        NOT NULL,
    QueueId        text        NOT NULL,
    NextEvictionOn timestamptz NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId)
);

-- Moves up to p_max_count dead messages of one queue to the dead letters and returns how many.
-- Dead means visible again (an in-flight last attempt may still finish) and either out of
-- attempts or expired. Rows locked by a concurrent dequeue or confirm are skipped, not waited on.
CREATE OR REPLACE FUNCTION orleans_stream_evict_messages(
    p_service_id      text,
    p_provider_id     text,
    p_queue_id        text,
    p_max_count       integer,
    p_max_attempts    integer,
    p_removal_timeout integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now   timestamptz := now();
    v_count integer;
BEGIN
    WITH dead AS (
        SELECT m.MessageId
          FROM OrleansStreamMessage AS m
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.VisibleOn <= v_now
           AND (m.Dequeued >= p_max_attempts OR m.ExpiresOn <= v_now)
         ORDER BY m.MessageId
         LIMIT GREATEST(p_max_count, 0)
           FOR UPDATE SKIP LOCKED
    ),
    moved AS (
        DELETE FROM OrleansStreamMessage AS m
         USING dead AS d
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = d.MessageId
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn,
                  m.ExpiresOn, m.CreatedOn, m.ModifiedOn, m.Payload
    )
    INSERT INTO OrleansStreamDeadLetter AS l
        (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
         ModifiedOn, DeadOn, RemoveOn, Payload)
    SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
           ModifiedOn, v_now, v_now + p_removal_timeout * interval '1 second', Payload
      FROM moved
    -- Ids are unique, so a conflict only follows a manual replay that reused an id: keep the
    -- latest copy rather than fail and leave the message live.
    ON CONFLICT (ServiceId, ProviderId, QueueId, MessageId) DO UPDATE
       SET Dequeued = EXCLUDED.Dequeued, VisibleOn = EXCLUDED.VisibleOn,
           ExpiresOn = EXCLUDED.ExpiresOn, CreatedOn = EXCLUDED.CreatedOn,
           ModifiedOn = EXCLUDED.ModifiedOn, DeadOn = EXCLUDED.DeadOn,
           RemoveOn = EXCLUDED.RemoveOn, Payload = EXCLUDED.Payload;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$fn$;

-- Deletes up to p_max_count dead letters of one queue whose RemoveOn has passed; returns how many.
CREATE OR REPLACE FUNCTION orleans_stream_evict_dead_letters(
    p_service_id  text,
    p_provider_id text,
    p_queue_id    text,
    p_max_count   integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_count integer;
BEGIN
    WITH expired AS (
        SELECT l.MessageId
          FROM OrleansStreamDeadLetter AS l
         WHERE l.ServiceId = p_service_id
           AND l.ProviderId = p_provider_id
           AND l.QueueId = p_queue_id
           AND l.RemoveOn <= now()
         ORDER BY l.RemoveOn
         LIMIT GREATEST(p_max_count, 0)
           FOR UPDATE SKIP LOCKED
    )
    DELETE FROM OrleansStreamDeadLetter AS l
     USING expired AS e
     WHERE l.ServiceId = p_service_id
       AND l.ProviderId = p_provider_id
       AND l.QueueId = p_queue_id
       AND l.MessageId = e.MessageId;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$fn$;

-- GetStreamMessagesKey: housekeeping (at most once per EvictionInterval per queue), then claim
-- up to MaxCount available messages, lowest MessageId first, and return them with their new
-- Dequeued (the receipt) and VisibleOn. SKIP LOCKED keeps two concurrent dequeuers of one queue
-- from ever receiving the same message.
CREATE OR REPLACE FUNCTION orleans_stream_dequeue(
    p_service_id          text,
    p_provider_id         text,
    p_queue_id            text,
    p_max_count           integer,
    p_max_attempts        integer,
    p_visibility_timeout  integer,
    p_removal_timeout     integer,
    p_eviction_interval   integer,
    p_eviction_batch_size integer)
RETURNS TABLE (
    o_service_id  text,
    o_provider_id text,
    o_queue_id    text,
    o_message_id  bigint,
    o_dequeued    integer,
    o_visible_on  timestamptz,
    o_expires_on  timestamptz,
    o_created_on  timestamptz,
    o_modified_on timestamptz,
    o_payload     bytea)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now   timestamptz := now();
    v_evict boolean := false;
BEGIN
    -- Win the housekeeping pass for this interval, or skip it. A plain read first, so the
    -- frequent polls between passes write nothing; a row another caller holds is skipped.
    PERFORM 1
       FROM OrleansStreamEviction AS e
      WHERE e.ServiceId = p_service_id AND e.ProviderId = p_provider_id
        AND e.QueueId = p_queue_id;
    IF NOT FOUND THEN
        INSERT INTO OrleansStreamEviction (ServiceId, ProviderId, QueueId, NextEvictionOn)
        VALUES (p_service_id, p_provider_id, p_queue_id,
                v_now + p_eviction_interval * interval '1 second')
        ON CONFLICT (ServiceId, ProviderId, QueueId) DO NOTHING;
        v_evict := FOUND;
    ELSE
        PERFORM 1
           FROM OrleansStreamEviction AS e
          WHERE e.ServiceId = p_service_id AND e.ProviderId = p_provider_id
            AND e.QueueId = p_queue_id AND e.NextEvictionOn <= v_now
            FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            UPDATE OrleansStreamEviction AS e
               SET NextEvictionOn = v_now + p_eviction_interval * interval '1 second'
             WHERE e.ServiceId = p_service_id AND e.ProviderId = p_provider_id
               AND e.QueueId = p_queue_id;
            v_evict := true;
        END IF;
    END IF;

    IF v_evict THEN
        PERFORM orleans_stream_evict_messages(p_service_id, p_provider_id, p_queue_id,
                                              p_eviction_batch_size, p_max_attempts,
                                              p_removal_timeout);
        PERFORM orleans_stream_evict_dead_letters(p_service_id, p_provider_id, p_queue_id,
                                                  p_eviction_batch_size);
    END IF;

    RETURN QUERY
    WITH picked AS (
        SELECT m.MessageId
          FROM OrleansStreamMessage AS m
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.VisibleOn <= v_now
           AND m.ExpiresOn > v_now
           AND m.Dequeued < p_max_attempts
         ORDER BY m.MessageId
         LIMIT GREATEST(p_max_count, 0)
           FOR UPDATE SKIP LOCKED
    )
    UPDATE OrleansStreamMessage AS m
       SET Dequeued = m.Dequeued + 1,
           VisibleOn = v_now + p_visibility_timeout * interval '1 second',
           ModifiedOn = v_now
      FROM picked AS p
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND m.MessageId = p.MessageId
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn,
              m.ExpiresOn, m.CreatedOn, m.ModifiedOn, m.Payload;
END
$fn$;

-- Parses the Items text of ConfirmStreamMessagesKey, "<MessageId>:<receipt>|...", into rows.
-- The provider formats the numbers with the current culture of the silo, so this is lenient:
-- any minus-like sign (ASCII hyphen-minus, U+2212 minus, dashes, small and full-width
-- hyphen-minus) makes a receipt negative, and every other non-digit (U+200E, U+061C and other
-- marks, spaces) is dropped. Malformed entries, out-of-range numbers and receipt 0 (which no
-- dequeue ever hands out) are skipped rather than raised, so one bad entry cannot fail the call.
CREATE OR REPLACE FUNCTION orleans_stream_parse_items(p_items text)
RETURNS TABLE (message_id bigint, receipt integer)
LANGUAGE sql
IMMUTABLE
AS $fn$
    SELECT x.message_id,
           CASE WHEN x.negative THEN -x.receipt_abs ELSE x.receipt_abs END
      FROM (
            SELECT CASE
                       WHEN c.id_digits !~ '^[0-9]{1,19}$' THEN NULL
                       WHEN c.id_digits::numeric > 9223372036854775807 THEN NULL
                       ELSE c.id_digits::bigint
                   END AS message_id,
                   CASE
                       WHEN c.receipt_digits !~ '^[0-9]{1,10}$' THEN NULL
                       WHEN c.receipt_digits::numeric > 2147483647 THEN NULL
                       ELSE c.receipt_digits::integer
                   END AS receipt_abs,
                   c.negative
              FROM (
                    SELECT regexp_replace(split_part(e.entry, ':', 1), '[^0-9]', '', 'g')
                               AS id_digits,
                           regexp_replace(split_part(e.entry, ':', 2), '[^0-9]', '', 'g')
                               AS receipt_digits,
                           split_part(e.entry, ':', 2)
                               ~ E'[-\\u2010\\u2011\\u2012\\u2013\\u2212\\uFE63\\uFF0D]' AS negative
                      FROM unnest(string_to_array(p_items, '|')) AS e(entry)
                     WHERE strpos(e.entry, ':') > 0
                   ) AS c
           ) AS x
     WHERE x.message_id IS NOT NULL
       AND x.receipt_abs > 0;
$fn$;

-- ConfirmStreamMessagesKey: a positive receipt confirms (deletes) the message, a negative one
-- releases it (VisibleOn = now, Dequeued kept so a message that keeps crashing receivers still
-- reaches MaxAttempts). Either only if the stored Dequeued equals the receipt: a stale receipt
-- means the message was dequeued again elsewhere, and the new holder owns it. Returns one row
-- per message actually confirmed or released.
CREATE OR REPLACE FUNCTION orleans_stream_confirm(
    p_service_id  text,
    p_provider_id text,
    p_queue_id    text,
    p_items       text)
RETURNS TABLE (
    o_service_id  text,
    o_provider_id text,
    o_queue_id    text,
    o_message_id  bigint)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now timestamptz := now();
BEGIN
    RETURN QUERY
    WITH items AS (
        SELECT i.message_id, i.receipt
          FROM orleans_stream_parse_items(p_items) AS i
    ),
    confirmed AS (
        DELETE FROM OrleansStreamMessage AS m
         USING items AS i
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = i.message_id
           AND i.receipt > 0
           AND m.Dequeued = i.receipt
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
    ),
    released AS (
        UPDATE OrleansStreamMessage AS m
           SET VisibleOn = v_now,
               ModifiedOn = v_now
          FROM items AS i
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = i.message_id
           AND i.receipt < 0
           AND m.Dequeued = -i.receipt
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
    )
    SELECT c.ServiceId, c.ProviderId, c.QueueId, c.MessageId FROM confirmed AS c
    UNION ALL
    SELECT r.ServiceId, r.ProviderId, r.QueueId, r.MessageId FROM released AS r;
END
$fn$;

-- FailStreamMessageKey: no receipt check. While attempts remain, make the message visible now
-- (the next dequeue raises its count); otherwise move it to the dead letters now. A message
-- that is already gone is ignored.
CREATE OR REPLACE FUNCTION orleans_stream_fail(
    p_service_id      text,
    p_provider_id     text,
    p_queue_id        text,
    p_message_id      bigint,
    p_max_attempts    integer,
    p_removal_timeout integer)
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_now timestamptz := now();
BEGIN
    UPDATE OrleansStreamMessage AS m
       SET VisibleOn = v_now,
           ModifiedOn = v_now
     WHERE m.ServiceId = p_service_id
       AND m.ProviderId = p_provider_id
       AND m.QueueId = p_queue_id
       AND m.MessageId = p_message_id
       AND m.Dequeued < p_max_attempts;
    IF FOUND THEN
        RETURN;
    END IF;

    WITH moved AS (
        DELETE FROM OrleansStreamMessage AS m
         WHERE m.ServiceId = p_service_id
           AND m.ProviderId = p_provider_id
           AND m.QueueId = p_queue_id
           AND m.MessageId = p_message_id
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn,
                  m.ExpiresOn, m.CreatedOn, m.ModifiedOn, m.Payload
    )
    INSERT INTO OrleansStreamDeadLetter AS l
        (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
         ModifiedOn, DeadOn, RemoveOn, Payload)
    SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
           ModifiedOn, v_now, v_now + p_removal_timeout * interval '1 second', Payload
      FROM moved
    ON CONFLICT (ServiceId, ProviderId, QueueId, MessageId) DO UPDATE
       SET Dequeued = EXCLUDED.Dequeued, VisibleOn = EXCLUDED.VisibleOn,
           ExpiresOn = EXCLUDED.ExpiresOn, CreatedOn = EXCLUDED.CreatedOn,
           ModifiedOn = EXCLUDED.ModifiedOn, DeadOn = EXCLUDED.DeadOn,
           RemoveOn = EXCLUDED.RemoveOn, Payload = EXCLUDED.Payload;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- One statement, exactly one row back.
('QueueStreamMessageKey', $q$
INSERT INTO OrleansStreamMessage
    (ServiceId, ProviderId, QueueId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
     Payload)
VALUES
    (@ServiceId, @ProviderId, @QueueId, 0, now(), now() + @ExpiryTimeout * interval '1 second',
     now(), now(), @Payload)
RETURNING ServiceId, ProviderId, QueueId, MessageId;
$q$),

('GetStreamMessagesKey', $q$
SELECT o_service_id AS ServiceId, o_provider_id AS ProviderId, o_queue_id AS QueueId,
       o_message_id AS MessageId, o_dequeued AS Dequeued, o_visible_on AS VisibleOn,
       o_expires_on AS ExpiresOn, o_created_on AS CreatedOn, o_modified_on AS ModifiedOn,
       o_payload AS Payload
  FROM orleans_stream_dequeue(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts,
                              @VisibilityTimeout, @RemovalTimeout, @EvictionInterval,
                              @EvictionBatchSize);
$q$),

('ConfirmStreamMessagesKey', $q$
SELECT o_service_id AS ServiceId, o_provider_id AS ProviderId, o_queue_id AS QueueId,
       o_message_id AS MessageId
  FROM orleans_stream_confirm(@ServiceId, @ProviderId, @QueueId, @Items);
$q$),

('FailStreamMessageKey', $q$
SELECT orleans_stream_fail(@ServiceId, @ProviderId, @QueueId, @MessageId, @MaxAttempts,
                           @RemovalTimeout);
$q$),

-- Not run by 10.4.2-alpha.1 (dequeue does the housekeeping) but must exist. They use only the
-- parameter names the provider would bind; the batch size is MaxCount.
('EvictStreamMessagesKey', $q$
SELECT orleans_stream_evict_messages(@ServiceId, @ProviderId, @QueueId, @MaxCount,
                                     @MaxAttempts, @RemovalTimeout) AS Evicted;
$q$),

('EvictStreamDeadLettersKey', $q$
SELECT orleans_stream_evict_dead_letters(@ServiceId, @ProviderId, @QueueId, @MaxCount)
       AS Evicted;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

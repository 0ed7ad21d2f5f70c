-- 01-catalog.sql
-- The query catalog read by all four Orleans ADO.NET providers (clustering, persistence,
-- reminders, streaming). Each provider looks its query keys up here by exact name and runs the
-- stored text with named parameters; the later files fill it.
--
-- The providers read this table unquoted, so every identifier here is unquoted (PostgreSQL folds
-- them to lower case). QueryKey is text, not char(n): padded keys would not equal the C# names.
-- Safe to run any number of times.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  text NOT NULL PRIMARY KEY,
    QueryText text NOT NULL
);

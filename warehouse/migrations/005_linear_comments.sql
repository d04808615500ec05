-- Version 5: Linear comments, so a Linear reschedule can be justified like a Jira one.
ALTER TABLE raw.linear_events ADD COLUMN kind VARCHAR DEFAULT 'change';
ALTER TABLE raw.linear_events ADD COLUMN author VARCHAR;
ALTER TABLE raw.linear_events ADD COLUMN body VARCHAR;

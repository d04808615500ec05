-- Version 7: day thresholds may be fractional (FOLLOWTHROUGH_DONE_WITHIN_DAYS=7.5), like the
-- time-to-ticket benchmark (4.3 days) always was.
ALTER TABLE models.follow_through_settings ALTER COLUMN done_within_days SET DATA TYPE DOUBLE;
ALTER TABLE models.follow_through_settings ALTER COLUMN p1_within_days SET DATA TYPE DOUBLE;
ALTER TABLE models.follow_through_settings ALTER COLUMN inactivity_days SET DATA TYPE DOUBLE;
ALTER TABLE models.follow_through_settings ALTER COLUMN verification_days SET DATA TYPE DOUBLE;
ALTER TABLE models.follow_through_settings ALTER COLUMN verification_window_days SET DATA TYPE DOUBLE;
ALTER TABLE models.follow_through_settings ALTER COLUMN fuzzy_window_days SET DATA TYPE DOUBLE;
ALTER TABLE marts.follow_through ALTER COLUMN done_within_days SET DATA TYPE DOUBLE;
ALTER TABLE marts.follow_through ALTER COLUMN p1_within_days SET DATA TYPE DOUBLE;

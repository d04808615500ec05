-- Version 8: tables nothing reads any more. Earlier builds wrote them through the polars IO
-- manager (not a migration); the dashboard and the marts that replace them are in version 6.
DROP TABLE IF EXISTS models.action_item_delays;
DROP TABLE IF EXISTS marts.time_to_ticket_monthly;

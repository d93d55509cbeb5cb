-- Every change-log entry gets an identity that another history cannot reproduce.
--
-- After a failover to an asynchronous standby that lagged, the new primary hands out the
-- revisions of the lost tail again, for other changes. A revision alone cannot tell the two
-- apart; the entry's random id can: a worker checks the id of the last entry it dispatched on
-- every reconnect, and a subscriber resuming with `since` sends the id it saw at that revision
-- (`since_entry_id`), so neither ever continues on a history that no longer exists.
-- Entries logged by a release that does not know the column get one from the default.

ALTER TABLE changes ADD COLUMN entry_id uuid NOT NULL DEFAULT gen_random_uuid();

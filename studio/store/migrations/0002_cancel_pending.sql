-- A cancel Runway did not confirm keeps the row open until the refresher's retry ends it.
ALTER TABLE sessions ADD COLUMN cancel_pending INTEGER NOT NULL DEFAULT 0;

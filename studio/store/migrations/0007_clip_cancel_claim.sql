-- Who is sending a clip's cancel right now, until when: one canceller at a time, across replicas
-- (a second DELETE of a task the first just cancelled would delete it from Runway).
ALTER TABLE clips ADD COLUMN cancel_claimed_until DOUBLE PRECISION;

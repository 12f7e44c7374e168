-- Legacy callback URLs (callback-urls-openapi.yaml, v3.1.7), SQLite
-- dialect. Keep in step with postgres/migrations/0008_callback_urls.sql.
--
-- A TPP's callback URL is stored as its event subscription (one per TPP,
-- the UNIQUE tpp_id of 0005) for every event type, marked legacy = 1, so
-- the publisher and the deliverer treat both alike. The events API hides
-- legacy rows; creating an event subscription replaces one (a subscription
-- supersedes a callback URL).
ALTER TABLE event_subscriptions ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0;

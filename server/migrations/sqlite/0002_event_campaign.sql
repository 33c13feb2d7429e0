-- The campaign or list id an emailed link carried (one-click unsubscribe, links in messages).
ALTER TABLE consent_events ADD COLUMN campaign TEXT;

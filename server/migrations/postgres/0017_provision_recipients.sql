-- A provision record keeps the recipient's identity as it was when the data was provided
-- (APPI 第29条, 規則20条: the record names the recipient), not the recipients row, which an owner
-- may edit later. Written from the recipients row in the statement that records the provision.
-- Records made before this migration have none (NULL): they show the recipient as it is now.
ALTER TABLE provisions ADD COLUMN recipient_name TEXT;
ALTER TABLE provisions ADD COLUMN recipient_address TEXT;
ALTER TABLE provisions ADD COLUMN recipient_representative TEXT;

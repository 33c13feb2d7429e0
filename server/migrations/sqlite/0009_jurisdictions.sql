-- The law in the product: each subject has a jurisdiction, each purpose a kind, a mode per
-- jurisdiction where it differs from its default, and the legal basis its rules look at
-- (JSON: soft opt-in basis, PPC filing, data flags). Versions copy all of it.
ALTER TABLE subjects ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT 'default'
    CHECK (jurisdiction IN ('jp', 'eu', 'us_ca', 'default'));
ALTER TABLE purposes ADD COLUMN kind TEXT NOT NULL DEFAULT 'other'
    CHECK (kind IN ('advertising', 'ad_targeting', 'third_party_sharing', 'other'));
ALTER TABLE purposes ADD COLUMN modes TEXT NOT NULL DEFAULT '';
ALTER TABLE purposes ADD COLUMN legal TEXT NOT NULL DEFAULT '{}';
ALTER TABLE purpose_versions ADD COLUMN kind TEXT NOT NULL DEFAULT 'other';
ALTER TABLE purpose_versions ADD COLUMN modes TEXT NOT NULL DEFAULT '';
ALTER TABLE purpose_versions ADD COLUMN legal TEXT NOT NULL DEFAULT '{}';

-- The built-in purposes are what their keys say.
UPDATE purposes SET kind = 'advertising' WHERE key = 'newsletter';
UPDATE purposes SET kind = 'ad_targeting' WHERE key = 'ad_targeting';
UPDATE purposes SET kind = 'third_party_sharing' WHERE key = 'third_party_sharing';

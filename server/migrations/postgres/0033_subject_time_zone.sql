-- The zone a person's times are shown in (an IANA name), when one was set; NULL: their
-- jurisdiction's (Asia/Tokyo for jp, America/Los_Angeles for us_ca, otherwise UTC).
ALTER TABLE subjects ADD COLUMN time_zone TEXT;

-- A change of it is recorded like the other fields (with its new value).
ALTER TABLE subject_changes DROP CONSTRAINT subject_changes_field_check;
ALTER TABLE subject_changes ADD CONSTRAINT subject_changes_field_check
    CHECK (field IN ('email', 'phone', 'lang', 'jurisdiction', 'time_zone'));

-- The send gate's pages (issue 31): granted consents of a purpose and channel in subject order
-- (an opt-in audience, page after page, without sorting every grant again), and granted consents
-- of a channel in (subject, purpose) order (the lapsed opt-ins of the suppression list).
CREATE INDEX consents_in_state_by_subject ON consents (purpose, channel, state, subject_id);
CREATE INDEX consents_on_channel_by_subject ON consents (channel, state, subject_id, purpose);

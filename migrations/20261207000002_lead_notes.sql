-- What a homeowner wrote when they asked again about a request already with plumbers: the
-- repeat is not sent twice, and its words are kept as a note. The note joins the request only
-- when the phone's owner taps "Add this" on the status page the text links to (whoever typed the
-- number may not own it); then the plumbers who took the request see it.
CREATE TABLE lead_notes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id     uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    body        text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
    written_at  timestamptz NOT NULL,
    added_at    timestamptz
);
-- The same words again are the same note.
CREATE UNIQUE INDEX lead_notes_once ON lead_notes (lead_id, md5(body));

ALTER TABLE lead_events DROP CONSTRAINT lead_events_kind_check;
ALTER TABLE lead_events ADD CONSTRAINT lead_events_kind_check
    CHECK (kind IN ('received', 'code_sent', 'verified', 'duplicate_attempt', 'offered', 'purchased', 'sold',
                    'unsold', 'note_added'));

-- A pro's new-lead e-mails carry a one-click unsubscribe (RFC 8058; what Gmail and Yahoo require of
-- bulk senders, and what CAN-SPAM asks of every commercial message). The dev mailbox keeps the
-- address a real provider is given for the `List-Unsubscribe` header, so it can be tested.
ALTER TABLE dev_mailbox ADD COLUMN list_unsubscribe text;

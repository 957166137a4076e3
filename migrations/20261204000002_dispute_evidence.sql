-- What our own data says about a purchase, for a dispute of it (PRODUCT.md: credited at once when
-- the evidence is ours): the same phone sent another verified request in the 7 days before this
-- one, or the lead's ZIP is outside the pro's area. One definition for the pro's dispute (decided
-- at once) and the staff's list of open ones.
CREATE VIEW purchase_evidence AS
SELECT p.id AS purchase_id,
       EXISTS (SELECT 1 FROM leads l2
               WHERE l2.phone = l.phone AND l2.id <> l.id AND l2.verified_at IS NOT NULL
                 AND l2.created_at >= l.created_at - interval '7 days' AND l2.created_at < l.created_at) AS duplicate,
       NOT EXISTS (SELECT 1 FROM pro_service_zips z WHERE z.pro_id = p.pro_id AND z.zip = l.zip) AS outside_area
FROM purchases p JOIN leads l ON l.id = p.lead_id;

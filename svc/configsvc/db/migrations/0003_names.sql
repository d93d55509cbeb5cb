-- Names stored before the name rules (NFC; no control or format characters; no whitespace at
-- either end: see configsvc_client/models.py `normal_name`) are kept as they are: rewriting
-- them could merge two applications or break a client that looks one up by name. This view
-- lists every stored name the rules would now refuse, with why, for an operator to rename
-- through the API (`SELECT * FROM names_to_review`); the migration also counts them in a
-- NOTICE. Comments get the same character rules, except that tabs and line breaks are allowed.

CREATE VIEW names_to_review AS
WITH names AS (
    SELECT 'application' AS kind, id, name, comments FROM applications
    UNION ALL
    SELECT 'configuration', id, name, comments FROM configurations
), checked AS (
    SELECT kind, id, name, ARRAY_REMOVE(ARRAY[
        CASE WHEN name IS NOT NFC NORMALIZED THEN 'name is not in NFC' END,
        CASE WHEN name ~ '[\u0001-\u001f\u007f-\u009f]' THEN 'name has a control character' END,
        CASE WHEN name ~ '[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0001\U000e0020-\U000e007f]'
             THEN 'name has a format character' END,
        CASE WHEN name ~ '^[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
             THEN 'name starts or ends with whitespace' END,
        CASE WHEN comments IS NOT NFC NORMALIZED
               OR comments ~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]'
             THEN 'comments break the character rules' END
    ], NULL) AS reasons
    FROM names
)
SELECT kind, id, name, reasons FROM checked WHERE reasons <> '{}';

DO $$
DECLARE
    found bigint := (SELECT count(*) FROM names_to_review);
BEGIN
    IF found > 0 THEN
        RAISE NOTICE '% stored names or comments break the new name rules; they are kept as they are: see SELECT * FROM names_to_review', found;
    END IF;
END
$$;

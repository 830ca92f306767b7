-- The admin session listing (`GET /admin/sessions`) pages newest first by (created_at, id), as
-- Kratos's (nid, created_at DESC, id) index serves it: each page is an index range, however many
-- sessions there are.
CREATE INDEX sessions_created ON sessions(created_at DESC, id);

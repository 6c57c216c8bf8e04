-- The example app's tables (configs/postgres.yaml), plus two that crbridge
-- must refuse to map (tests/data/broken_configs).
CREATE TABLE todo_lists (
  id text PRIMARY KEY,
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE todos (
  id text PRIMARY KEY,
  list_id text NOT NULL,
  title text NOT NULL DEFAULT '',
  done boolean NOT NULL DEFAULT false,
  position double precision,
  due date,
  internal_note text
);
CREATE TABLE audit_log (at timestamptz, message text);
CREATE TABLE invoices (id bigint PRIMARY KEY, amount money);

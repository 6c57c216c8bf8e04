-- The example app's tables (configs/mysql.yaml).
CREATE TABLE todo_lists (
  id VARCHAR(64) PRIMARY KEY,
  name VARCHAR(200) NOT NULL DEFAULT '',
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);
CREATE TABLE todos (
  id VARCHAR(64) PRIMARY KEY,
  list_id VARCHAR(64) NOT NULL,
  title VARCHAR(500) NOT NULL DEFAULT '',
  done TINYINT(1) NOT NULL DEFAULT 0,
  position DOUBLE,
  due DATE,
  internal_note TEXT
);

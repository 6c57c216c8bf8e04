-- What crbridge's user needs on MariaDB (docs/mysql.md): to read the binary
-- log as a replica and to own its metadata database. docker-compose.yml
-- runs it when MariaDB first starts.
GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON crbridge.* TO 'app'@'%';

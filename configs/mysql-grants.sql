-- What crbridge's user needs on MySQL 8.4 and 9.x (docs/mysql.md): to read
-- the binary log as a replica, to take the snapshot's brief global read
-- lock, and to own its metadata database. docker-compose.yml runs it when
-- MySQL first starts.
GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD ON *.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON crbridge.* TO 'app'@'%';
